//! The capability table against what docs/ROLES.md says: its role table
//! (copied from the product specification, PRODUCT.md §1) names exactly the
//! service's user roles, and it shows the capability matrix as the code has
//! it.

use hazard_tracker::domain::access::{capability_matrix, Role};

fn read(relative: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The text of docs/ROLES.md's level-two section whose heading is `heading`,
/// up to the next level-two heading.
fn roles_md_section(heading: &str) -> String {
    let roles = read("docs/ROLES.md");
    roles
        .split("\n## ")
        .skip(1)
        .find(|s| s.lines().next().map(str::trim) == Some(heading))
        .unwrap_or_else(|| panic!("docs/ROLES.md has a section \"## {heading}\""))
        .to_owned()
}

#[test]
fn roles_md_names_exactly_the_services_roles() {
    // Only the "Roles" section: the capability matrix, in its own section,
    // has rows starting with "| `" too.
    let section = roles_md_section("Roles");
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
    assert_eq!(roles, ours, "docs/ROLES.md's role table (PRODUCT.md §1)");
}

#[test]
fn roles_md_shows_the_capability_table_as_the_code_has_it() {
    let section = roles_md_section("Capabilities");
    assert!(
        section.contains(&capability_matrix()),
        "docs/ROLES.md's \"Capabilities\" section must contain the capability \
         matrix exactly as domain::access::capability_matrix() renders it:\n{}",
        capability_matrix()
    );
}
