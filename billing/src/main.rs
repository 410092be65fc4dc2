fn main() {
    println!("{} service: not implemented yet", billing::SERVICE);
}
