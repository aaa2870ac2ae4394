//! The agreement as the owner reads it: the same input gives the same bytes,
//! every section is there, long descriptions wrap inside their cells, and
//! the fonts travel inside the file.

use petbridge_agreement::{Agreement, Authorisation, Instalment, Item, Person, Pet, Practice, Terms, render};
use petbridge_tests::poppler;

const LONG: &str = "Comprehensive dental assessment under general anaesthesia including full-mouth radiographs, \
                    scaling and polishing above and below the gum line, charting of every tooth and a written \
                    home-care plan";

fn sample() -> Agreement {
    Agreement {
        reference: "WP-K9-ADULT v3 · agreement 1".into(),
        issued_on: "7 December 2026".into(),
        occasion: "enrolment".into(),
        practice: Practice {
            name: "Riverside Veterinary Clinic".into(),
            contact: vec!["12 Mill Lane, Springfield".into(), "(555) 010-2000".into()],
        },
        owner: Person { name: "Ann Owner".into(), contact: vec!["ann@example.test".into()] },
        co_owner: Some("Bob Owner".into()),
        pet: Pet { name: "Rex".into(), description: "Dog, Labrador Retriever, male, born 3 March 2022".into() },
        plan: Terms {
            name: "Adult Dog Wellness".into(),
            code: "WP-K9-ADULT, version 3".into(),
            term: "7 December 2026 to 6 December 2027 (12 months)".into(),
            billing: "12 monthly payments of $39.00".into(),
            enrolment_fee: "$49.00".into(),
            total: "$517.00".into(),
        },
        items: vec![
            Item { code: "EXAM01".into(), description: "Wellness examination".into(), quantity: "2".into() },
            Item { code: "DENT-FULL".into(), description: LONG.into(), quantity: "1".into() },
            Item { code: "NAIL".into(), description: "Nail trim".into(), quantity: "unlimited".into() },
        ],
        schedule: (1..=12)
            .map(|n| Instalment {
                due_on: format!("{n} month(s) on"),
                label: format!("Payment {n} of 12"),
                amount: "$39.00".into(),
            })
            .collect(),
        practice_terms: "Appointments are booked as for any client.".into(),
        cancellation_terms: "If you cancel, you pay for the care used less what you have paid.".into(),
        renewal_terms: "The plan renews into Adult Dog Wellness unless you stop it.".into(),
        authorisation: Authorisation {
            amount: "$39.00".into(),
            frequency: "each month, 12 times".into(),
            card_last4: None,
            how_to_cancel: "To withdraw it, cancel the plan at the practice.".into(),
        },
    }
}

#[test]
fn the_same_input_gives_byte_identical_pdfs() {
    let first = render(&sample()).expect("renders");
    let second = render(&sample()).expect("renders");
    assert!(first.starts_with(b"%PDF-"), "a PDF");
    assert!(first == second, "two renderings of one agreement differ");
    let mut other = sample();
    other.owner.name = "Carla Owner".into();
    assert!(render(&other).expect("renders") != first, "another owner gives another file");
}

#[test]
fn every_section_and_the_long_description_are_in_the_text() {
    let pdf = render(&sample()).expect("renders");
    let Some(text) = poppler("pdftotext", &pdf) else { return };
    for heading in [
        "Wellness plan healthcare agreement",
        "Parties",
        "The plan",
        "Not insurance",
        "Items covered",
        "Payment schedule",
        "Terms of Riverside Veterinary Clinic",
        "Cancellation",
        "Renewal",
        "Charge authorisation",
        "Signatures",
    ] {
        assert!(text.contains(heading), "no section {heading:?} in:\n{text}");
    }
    for fact in ["Ann Owner", "Bob Owner", "Rex", "WP-K9-ADULT v3", "$517.00", "Payment 12 of 12", "not insurance"] {
        assert!(text.contains(fact), "{fact:?} is missing from:\n{text}");
    }
    // The description is all there, word for word, and wrapped: no single
    // line holds it (it would run off the page otherwise).
    let words: Vec<&str> = text.split_whitespace().collect();
    let wanted: Vec<&str> = LONG.split_whitespace().collect();
    assert!(
        words.windows(wanted.len()).any(|window| window == wanted.as_slice()),
        "the long description is cut:\n{text}"
    );
    assert!(!text.lines().any(|line| line.contains(LONG)), "the long description did not wrap");
    let first_line = text.lines().find(|line| line.contains("Comprehensive dental")).expect("its first line");
    assert!(first_line.len() < LONG.len() / 2, "the description's first line is too long: {first_line:?}");
}

#[test]
fn fonts_are_embedded() {
    let pdf = render(&sample()).expect("renders");
    let Some(table) = poppler("pdffonts", &pdf) else { return };
    // name type encoding emb sub uni object ID: two header lines, then a row a font.
    let rows: Vec<&str> = table.lines().skip(2).filter(|row| !row.trim().is_empty()).collect();
    assert!(!rows.is_empty(), "no fonts listed:\n{table}");
    for row in rows {
        let columns: Vec<&str> = row.split_whitespace().collect();
        let emb = columns.len().checked_sub(5).map(|i| columns[i]);
        assert_eq!(emb, Some("yes"), "a font is not embedded: {row}");
    }
}
