fn main() {
    println!("{} service: not implemented yet", notification::SERVICE);
}
