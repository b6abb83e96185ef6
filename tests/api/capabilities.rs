//! The capability table against what the product and the README say: the
//! roles of PRODUCT.md §1 are exactly the service's user roles, and the README
//! shows the table as the code has it.

use hazard_tracker::domain::access::{capability_matrix, Role};

fn read(relative: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn product_md_names_exactly_the_services_roles() {
    let product = read("../shared/spec/PRODUCT.md");
    let section = product
        .split("\n## ")
        .find(|s| s.starts_with("1."))
        .expect("PRODUCT.md has a section 1");
    let roles: Vec<String> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`').map(|(role, _)| role.to_owned()))
        .collect();
    // `display` is the role of a wall screen's display key (API.md), never
    // of a user.
    let ours: Vec<String> = Role::ALL
        .iter()
        .filter(|r| **r != Role::Display)
        .map(|r| r.to_string())
        .collect();
    assert_eq!(roles, ours, "PRODUCT.md §1's role table");
}

#[test]
fn the_readme_shows_the_capability_table_as_the_code_has_it() {
    let readme = read("README.md");
    assert!(
        readme.contains(&capability_matrix()),
        "README.md must contain the capability matrix exactly as \
         domain::access::capability_matrix() renders it:\n{}",
        capability_matrix()
    );
}
