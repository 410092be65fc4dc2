fn main() {
    println!("{} service: not implemented yet", inventory::SERVICE);
}
