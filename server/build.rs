// The migrations are embedded at compile time (`sqlx::migrate!`); without this, adding one does
// not rebuild the binary that must run it.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
