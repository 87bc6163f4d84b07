"""References a reviewer accepts (issue 12 §6): labels as the text cites them, capitals kept,
primary sources, and citations (not keys) wherever a page names a source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from protocol.display import provenance_cell, registry_field_in_words
from protocol.facts import Fact
from protocol.references import to_bibtex
from protocol.study import Reference, load_study


@pytest.mark.parametrize(
    ("authors", "label"),
    [
        (["Koleba, Tanya"], "Koleba 2006"),
        (["Koleba, Tanya", "Ensom, Mary H. H."], "Koleba and Ensom 2006"),
        (["Koleba, Tanya", "Ensom, Mary H. H.", "Third, A."], "Koleba et al. 2006"),
        (["Koleba, Tanya", "others"], "Koleba et al. 2006"),
        (["van den Hoogen, Frank", "Khanna, D.", "others"], "van den Hoogen et al. 2006"),
        (["ClinicalTrials.gov"], "ClinicalTrials.gov 2006"),
    ],
)
def test_a_reference_is_labelled_by_its_authors_and_year(authors, label):
    assert Reference(title="t", authors=authors, year=2006).label == label


def test_a_short_label_wins_and_a_reference_without_one_needs_authors_and_a_year():
    assert Reference(title="t", short="BNF", authors=["A, B"], year=2000).label == "BNF"
    for incomplete in ({"authors": ["A, B"]}, {"year": 2000}, {}):
        with pytest.raises(ValidationError, match="needs 'short', or 'authors' and 'year'"):
            Reference(title="t", **incomplete)


def test_every_reference_of_the_study_has_a_label_and_no_label_is_a_stub():
    labels = [r.label for r in load_study().references.values()]
    assert len(labels) == len(set(labels)), "two references share a label"
    for label in labels:
        assert not re.fullmatch(r"[a-z]{2,4}\d*", label), label  # no "[ink]" stubs


def test_the_bibtex_keeps_capitals_names_and_labels():
    bib = to_bibtex()
    # titles double-braced: BibTeX styles may not lower-case "CellCept", "GFR" or "ICSH"
    assert "title = {{New creatinine- and cystatin C-based equations to estimate GFR" in bib
    assert "shorthand = {Inker et al. 2021}" in bib
    assert "author = {Inker, Lesley A. and Eneanya, Nwamaka D. and Coresh, Josef and others}" in bib
    # an organisation is one name, not a first and a last name
    assert "author = {{ClinicalTrials.gov}}" in bib
    assert "doi = {10.1056/NEJMoa2102953}" in bib
    for title in re.findall(r"^  title = (.*),?$", bib, flags=re.M):
        assert title.startswith("{{") and title.rstrip(",").endswith("}}"), title


def test_primary_sources_replace_mirrors_except_where_the_registry_lacks_the_field():
    references = load_study().references
    urls = {key: r.url or "" for key, r in references.items()}
    assert not any("medicalalgorithms" in url or "kidney.org" in url for url in urls.values())
    assert references["hemoglobin-conversion"].doi == "10.1136/jcp.49.4.271"
    assert references["inker-2021"].doi == "10.1056/NEJMoa2102953"
    # the one mirror kept says why
    assert "mirror" in references["crick-nct06375005"].note
    assert "lacks the outcome measures" in references["crick-nct06375005"].note


def test_a_source_column_shows_the_citation_not_its_key():
    study = load_study()
    fact = Fact[str](value="x", provenance="label", source="cellcept-us-pi")
    assert provenance_cell(fact, study) == "product label (CellCept US label)"
    fact = Fact[str](value="x", provenance="literature", source="inker-2021")
    assert provenance_cell(fact, study) == "literature (Inker et al. 2021)"
    fact = Fact[str](value="x", provenance="assumption", note="to confirm")
    assert provenance_cell(fact, study) == "⚠ assumption: to confirm"


@pytest.mark.parametrize(
    ("field", "words"),
    [
        ("protocolSection.identificationModule.nctId", "NCT ID"),
        ("protocolSection.designModule.designInfo.maskingInfo.masking", "Blinding Strategy"),
        ("protocolSection.designModule.enrollmentInfo.count", "Total Enrollment"),
        ("protocolSection.armsInterventionsModule.armGroups[1].type", "group 2: Group Type"),
        ("protocolSection.armsInterventionsModule.interventions[0].name", "intervention 1"),
        ("protocolSection.descriptionModule.officialTitle", "official title"),  # no heading yet
    ],
)
def test_a_registry_source_is_named_by_the_heading_the_record_shows(field, words):
    fact = Fact[str](value="x", provenance="registry", registry_field=field, quote="x")
    assert words in provenance_cell(fact, load_study())


def test_no_registry_fact_is_sourced_to_the_apis_field_names():
    # a reader finds the fact under the record's heading; the API's path is for maintainers
    study_text = (Path(__file__).parents[1] / "protocol" / "study.yaml").read_text()
    fields = set(re.findall(r"registry_field: (\S+)", study_text))
    assert len(fields) > 30
    for field in fields:
        shown = registry_field_in_words(field)
        assert not re.search(r"Module|\[|\.|[a-z][A-Z]|Info\b", shown), (field, shown)
