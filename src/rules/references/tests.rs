//! The catalogue parser and the citation resolver.

use super::*;

const WORK: &str = "[[work]]\nid = \"hgb\"\nshort = \"HGB\"\ntitle = \"Handelsgesetzbuch\"\nedition = \"Fassung ab 1.1.2025\"\nurl = \"https://www.gesetze-im-internet.de/hgb/\"\n";
const ENTRY: &str = "\n[[entry]]\nid = \"hgb-257\"\nwork = \"hgb\"\nsection = \"§ 257\"\nparts = [\"Abs. 1 Nr. 2\", \"Abs. 4\"]\nurl = \"https://www.gesetze-im-internet.de/hgb/__257.html\"\n";

fn catalogue() -> Catalogue {
    Catalogue::parse("refs.toml", &format!("{WORK}{ENTRY}")).expect("the sample parses")
}

#[test]
fn a_citation_resolves_to_title_edition_pinpoint_and_the_sections_url() {
    let citation = catalogue().resolve("hgb-257 Abs. 1 Nr. 2").unwrap();
    assert_eq!(citation.label, "HGB § 257 Abs. 1 Nr. 2");
    assert_eq!(citation.pinpoint, "§ 257 Abs. 1 Nr. 2");
    assert_eq!(citation.edition, "Fassung ab 1.1.2025");
    assert_eq!(citation.title, "Handelsgesetzbuch");
    assert_eq!(
        citation.url,
        "https://www.gesetze-im-internet.de/hgb/__257.html"
    );
    assert_eq!(
        (citation.id.as_str(), citation.work.as_str()),
        ("hgb-257", "hgb")
    );
}

#[test]
fn a_vague_an_unlisted_or_an_unknown_citation_is_refused_with_the_way_out() {
    let catalogue = catalogue();
    let vague = catalogue.resolve("hgb-257").unwrap_err();
    assert!(
        vague.contains("too vague") && vague.contains("Abs. 1 Nr. 2, Abs. 4"),
        "{vague}"
    );
    let unlisted = catalogue.resolve("hgb-257 Abs. 9").unwrap_err();
    assert!(
        unlisted.contains("'Abs. 9', which is not listed"),
        "{unlisted}"
    );
    let unknown = catalogue.resolve("HGB § 257(1)").unwrap_err();
    assert!(unknown.contains("does not start with the id"), "{unknown}");
    let hint = catalogue.resolve("hgb Abs. 4").unwrap_err();
    assert!(hint.contains("did you mean 'hgb-257'"), "{hint}");
}

#[test]
fn an_entry_cited_as_a_whole_takes_no_pinpoint() {
    let text =
        format!("{WORK}\n[[entry]]\nid = \"hgb-238\"\nwork = \"hgb\"\nsection = \"§ 238\"\n");
    let catalogue = Catalogue::parse("refs.toml", &text).unwrap();
    assert_eq!(catalogue.resolve("hgb-238").unwrap().label, "HGB § 238");
    // No section URL: the work's URL stands in.
    assert_eq!(
        catalogue.resolve("hgb-238").unwrap().url,
        "https://www.gesetze-im-internet.de/hgb/"
    );
    let error = catalogue.resolve("hgb-238 Abs. 2").unwrap_err();
    assert!(error.contains("cited as a whole"), "{error}");
}

#[test]
fn a_work_without_edition_is_refused_with_file_line_and_column() {
    let text = format!("{WORK}{ENTRY}").replace("edition = \"Fassung ab 1.1.2025\"\n", "");
    let error = Catalogue::parse("refs.toml", &text).unwrap_err();
    // toml names the table that lacks the field: the [[work]] on line 1.
    assert_eq!(
        (error.file.as_str(), error.line),
        ("refs.toml", 1),
        "{error}"
    );
    assert!(error.reason.contains("edition"), "{error}");

    let no_year = format!("{WORK}{ENTRY}").replace("Fassung ab 1.1.2025", "aktuelle Fassung");
    let error = Catalogue::parse("refs.toml", &no_year).unwrap_err();
    assert_eq!((error.line, error.column), (5, 11), "{error}");
    assert!(error.to_string().starts_with("refs.toml:5:11: "), "{error}");
}

#[test]
fn an_entry_without_section_or_of_an_unknown_work_is_refused_with_its_place() {
    let blank = format!("{WORK}{ENTRY}").replace("section = \"§ 257\"", "section = \" \"");
    let error = Catalogue::parse("refs.toml", &blank).unwrap_err();
    assert_eq!((error.line, error.column), (11, 11), "{error}");
    assert!(error.reason.contains("section"), "{error}");

    let orphan = format!("{WORK}{ENTRY}").replace("work = \"hgb\"", "work = \"hbg\"");
    let error = Catalogue::parse("refs.toml", &orphan).unwrap_err();
    assert_eq!((error.line, error.column), (10, 8), "{error}");
    assert!(error.reason.contains("unknown work 'hbg'"), "{error}");
}

#[test]
fn a_url_off_the_official_publishers_is_refused() {
    let text = format!("{WORK}{ENTRY}").replace(
        "https://www.gesetze-im-internet.de/hgb/__257.html",
        "https://dejure.org/gesetze/HGB/257.html",
    );
    let error = Catalogue::parse("refs.toml", &text).unwrap_err();
    assert_eq!(error.line, 13, "{error}");
    assert!(error.reason.contains("official publisher"), "{error}");
}

#[test]
fn citation_problems_name_file_line_and_column_of_each_bad_citation() {
    let rule =
        "id = \"RET-001\"\nreferences = [\"hgb-257 Abs. 1 Nr. 3\",\n  \"hgb-257\", \"nosuch-1\"]\n";
    let problems = citation_problems("custom/RET-001.toml", rule);
    let places: Vec<(usize, usize)> = problems.iter().map(|p| (p.line, p.column)).collect();
    assert_eq!(places, vec![(3, 3), (3, 14)], "{problems:?}");
    assert!(
        problems[0]
            .to_string()
            .starts_with("custom/RET-001.toml:3:3: ")
    );
    assert!(problems[0].reason.contains("too vague"));
    assert!(problems[1].reason.contains("'nosuch-1'"));
}

#[test]
fn the_embedded_catalogue_parses_and_every_entry_resolves_with_edition_and_section() {
    let catalogue = Catalogue::embedded().expect("the embedded catalogue parses");
    for entry in catalogue.entries() {
        let citations: Vec<String> = if entry.parts.is_empty() {
            vec![entry.id.clone()]
        } else {
            entry
                .parts
                .iter()
                .map(|p| format!("{} {p}", entry.id))
                .collect()
        };
        for citation in citations {
            let resolved = catalogue.resolve(&citation).expect(&citation);
            assert!(!resolved.edition.is_empty() && !resolved.pinpoint.is_empty());
            assert!(resolved.url.starts_with("https://"));
        }
    }
}
