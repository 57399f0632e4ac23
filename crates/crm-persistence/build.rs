//! The migrations are embedded in the crate: a new migration directory must rebuild it (files
//! already embedded are tracked by the compiler; new ones are not).
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
