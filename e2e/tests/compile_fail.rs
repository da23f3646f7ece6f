//! What must not compile: ids of different kinds swapped, and a request
//! sent without one of its required fields. Each case in `compile_fail/`
//! has the compiler's expected message next to it (`TRYBUILD=overwrite`
//! rewrites them after a deliberate change).

#[test]
fn misuse_does_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/compile_fail/*.rs");
}
