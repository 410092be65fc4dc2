fn main() {
    println!("{} service: not implemented yet", customer::SERVICE);
}
