fn main() {
    println!("{} service: not implemented yet", orders::SERVICE);
}
