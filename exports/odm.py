"""The participant record as CDISC ODM 1.3.2 study metadata: the eCRF an EDC system imports.

The forms are generated from the participant record's own schema (``protocol.participant``), so
a field added to the record appears in the eCRF: each record section is an item group (a list
of entries, such as the medications, a repeating one), each field an item with its data type
and question, each fixed list of values a code list. A second form asks, for each of the 37
criteria, whether the participant meets it (Yes/No).

Built with odmlib, and checked two ways, since each misses what the other finds: the ODM 1.3.2
XML schema that odmlib ships (types, element order) and odmlib's OID reference check (an item
group naming an item that is not defined; a definition nothing uses).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from exports.common import Export, Finding, study_or_default
from protocol.participant import json_schema
from protocol.study import Study

LANGUAGE = "en"
YES_NO = "CL.NY"
# the record's identifier is the subject key of ODM clinical data, not an item of a form
NOT_ITEMS = ("participant",)


def _text(model: Any, text: str) -> Any:
    import odmlib.odm_1_3_2.model as ODM

    return model(TranslatedText=[ODM.TranslatedText(_content=text, lang=LANGUAGE)])


def _oid(prefix: str, path: str) -> str:
    return f"{prefix}.{path.upper() or 'PARTICIPANT'}"


#: A route's code in a data manager's words (the record keeps the short codes a site types).
ROUTE_WORDS = {
    "iv": "intravenous",
    "im": "intramuscular",
    "sc": "subcutaneous",
    "intra_articular": "intra-articular",
}


def _decode(path: str, value: str) -> str:
    """A code list value as its decode: a route in full, otherwise its words ("intra-articular",
    "resolved"), first letter in capitals as a form shows a choice."""
    words = (
        ROUTE_WORDS.get(value, value.replace("_", " "))
        if path.endswith("route")
        else (value.replace("_", " "))
    )
    return words[:1].upper() + words[1:]


def _title(path: str, field: str, raw: dict[str, Any], child: dict[str, Any], study: Any) -> str:
    """A group's name or an item's question in a reader's words: the data dictionary's meaning
    where it has one (an analyte's name, a skin area, a classification item, a lab value's
    parts), else the field's own description, else the field's name in words; never a type's
    description ("a decimal number with a point"), an internal key (``mrss``, ``wbc``) or a
    criterion ID alone (``EX27``)."""
    from protocol.data_dictionary import _meaning

    meaning = _meaning(path, study) or _lab_part(path, study)
    described = raw.get("description") or (
        child.get("description") if "properties" in child else None
    )
    if described and TYPE_DESCRIPTIONS.isdisjoint({described}) and not meaning:
        if not _CRITERION_IDS.fullmatch(described):
            return str(described)
        words = _FIELD_WORDS.get(field) or field.replace("_", " ")
        return f"{_capitalised(words)} ({described})"
    return _capitalised(meaning or _FIELD_WORDS.get(field) or field.replace("_", " "))


def _lab_part(path: str, study: Any) -> str:
    """A laboratory value's ULN and its unit, named by the analyte (the same words under ALT,
    AST and total bilirubin would not say which)."""
    from protocol.labs import get_analyte

    parts = path.split(".")
    if len(parts) != 3 or parts[0] != "labs" or parts[2] not in ("uln", "uln_unit"):
        return ""
    try:
        label = get_analyte(parts[1], study).short_label
    except KeyError:
        return ""
    if parts[2] == "uln":
        return f"{label}: the site's upper limit of normal"
    return f"{label}: the unit of the upper limit of normal, if not the value's"


#: The descriptions a field's type gives, which say nothing of the field.
TYPE_DESCRIPTIONS = frozenset({"a decimal number with a point"})
_CRITERION_IDS = re.compile(r"(?:(?:IN|EX)\d\d(?:, )?)+")


def _capitalised(words: str) -> str:
    """First letter in capitals, unless the first word is an abbreviation written with them
    (mRSS, eGFR)."""
    first = words.split(" ", 1)[0]
    return words if any(c.isupper() for c in first[1:]) else words[:1].upper() + words[1:]


#: Fields whose names are abbreviations or internal keys, in words.
_FIELD_WORDS = {
    "ssc": "Systemic sclerosis",
    "mrss": "Modified Rodnan skin score (mRSS)",
    "history": "Medical history",
    "pulmonary": "Lung function",
    "infection_screening": "Infection screening",
    "pah": "Pulmonary arterial hypertension (PAH)",
    "ild": "Interstitial lung disease (ILD)",
    "sex": "Sex",
    "result": "Result",
    "sample": "Sample",
    "name": "Name",
    "kind": "Kind",
    "route": "Route",
    "type": "Type",
}


class _Collector:
    """Walks the record's JSON schema: item groups, items and code lists, in schema order."""

    def __init__(self, schema: dict[str, Any], study: Any = None) -> None:
        self.study = study_or_default(study)
        self.definitions = schema.get("$defs", {})
        self.groups: list[tuple[str, str, bool, list[str]]] = []  # oid, name, repeating, items
        self.items: list[dict[str, Any]] = []
        # each code list's record path and its (coded value, decode) pairs
        self.code_lists: dict[str, tuple[str, list[tuple[str, str]]]] = {}

    def resolve(self, spec: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in spec:
            return self.resolve(self.definitions[spec["$ref"].rsplit("/", 1)[-1]])
        if "anyOf" in spec:
            kinds = [s for s in spec["anyOf"] if s.get("type") != "null"]
            if len(kinds) == 1:
                merged = {k: v for k, v in spec.items() if k != "anyOf"}
                return {**self.resolve(kinds[0]), **merged}
        return spec

    def walk(self, spec: dict[str, Any], path: str, name: str, repeating: bool = False) -> None:
        own: list[str] = []
        self.groups.append((_oid("IG", path), name, repeating, own))
        for field, raw in spec.get("properties", {}).items():
            if not path and field in NOT_ITEMS:
                continue
            if field in ("uln", "uln_unit") and not self._uln_applies(path):
                continue  # a ULN only where the analyte's threshold is a multiple of it
            child = self.resolve(raw)
            where = f"{path}.{field}" if path else field
            title = _title(where, field, raw, child, self.study)
            if child.get("type") == "object" or "properties" in child:
                self.walk(child, where, title)
            elif child.get("type") == "array":
                entries = self.resolve(child.get("items", {}))
                if entries.get("type") == "object" or "properties" in entries:
                    self.walk(entries, where, title, repeating=True)
                else:
                    own.append(self.item(where, title, {"type": "string", "maxLength": 200}))
            else:
                own.append(self.item(where, title, child))

    def _uln_applies(self, path: str) -> bool:
        from protocol.labs import get_analyte

        parts = path.split(".")
        if len(parts) != 2 or parts[0] != "labs":
            return True
        try:
            return bool(get_analyte(parts[1], self.study).relative_to_uln)
        except KeyError:  # a test the book does not know: its ULN kept
            return True

    def _choices(self, path: str) -> list[tuple[str, str]] | None:
        """The values the rules read in a field the record types as text: an event's kind
        (the study's own, an amendment's included), a medicine's frequency and a lab's unit.
        Free text there would let a site enter what `screen` refuses."""
        from protocol.washout import FREQUENCY_CHOICES

        if path == "events.kind":
            return [(e.kind, e.label) for e in self.study.exposure_events]
        if path == "medications.frequency":
            return [(f, f[:1].upper() + f[1:]) for f in FREQUENCY_CHOICES]
        parts = path.split(".")
        if len(parts) == 3 and parts[0] == "labs" and parts[2] in ("unit", "uln_unit"):
            # the units the study lists for the analyte, as its laboratories report it
            from protocol.labs import get_analyte

            try:
                units = get_analyte(parts[1], self.study).accepted_units
            except KeyError:  # a test the book does not know: its unit stays text
                return None
            return [(unit, unit) for unit in units]
        return None

    def item(self, path: str, question: str, spec: dict[str, Any]) -> str:
        oid = _oid("IT", path)
        definition: dict[str, Any] = {"OID": oid, "Name": path, "question": question}
        kind = spec.get("type")
        choices = self._choices(path)
        if choices is None and "enum" in spec:
            choices = [(str(v), _decode(path, str(v))) for v in spec["enum"]]
        if choices is not None:
            code_list = _oid("CL", path)
            self.code_lists[code_list] = (path, choices)
            definition |= {
                "DataType": "text",
                "Length": max(len(v) for v, _ in choices),
                "code_list": code_list,
            }
        elif kind == "boolean":
            definition |= {"DataType": "text", "Length": 1, "code_list": YES_NO}
        elif kind == "integer":
            definition |= {"DataType": "integer", "Length": 10}
        elif kind == "number":
            definition |= {"DataType": "float"}
        elif spec.get("format") == "date":
            definition |= {"DataType": "date"}
        else:
            definition |= {"DataType": "text", "Length": int(spec.get("maxLength", 200))}
        # the record's own bounds (an mRSS area 0 to 3, the total 0 to 51): an EDC hard edit
        bounds = [(c, spec[k]) for c, k in (("GE", "minimum"), ("LE", "maximum")) if k in spec]
        if bounds and kind in ("integer", "number"):
            definition["bounds"] = bounds
        self.items.append(definition)
        return oid


def _walk_added_attestations(collector: _Collector, study: Study) -> None:
    """A criterion an amendment adds before the book has its rule is decided by the
    investigator's attestation (as IN07, EX16, EX30 are), which the record's schema cannot name
    in advance: its group (applies, date) is added beside theirs, named by the criterion, or
    the form could not capture what screen needs to decide it."""
    from protocol.participant import ATTESTED_CRITERIA
    from protocol.screening import attested_criteria

    added = [
        c
        for c in study.criteria
        if c.id in attested_criteria(study) and c.id not in ATTESTED_CRITERIA
    ]
    if not added:
        return
    attestation = collector.resolve({"$ref": "#/$defs/Attestation"})
    last = max(i for i, g in enumerate(collector.groups) if g[0].startswith("IG.ATTESTATIONS."))
    before, after = collector.groups[: last + 1], collector.groups[last + 1 :]
    collector.groups = before
    for criterion in added:
        words = criterion.text.rstrip(".")
        text = words if len(words) <= 120 else words[:119] + "…"
        collector.walk(attestation, f"attestations.{criterion.id}", f"{text} ({criterion.id})")
    collector.groups += after


def build(study: Study | None = None) -> Any:
    """The ODM document (an odmlib model)."""
    import odmlib.odm_1_3_2.model as ODM

    study = study_or_default(study)
    nct = study.identification.nct_id.value
    version = study.protocol_version
    collector = _Collector(json_schema(), study)
    collector.walk(json_schema(), "", "Participant")  # the record's own fields: IG.PARTICIPANT
    _walk_added_attestations(collector, study)
    groups = [g for g in collector.groups if g[3]]  # a section with only sub-sections: no group
    # the protocol version's date (else the record's last update), never the time of writing
    source_date = version.date if version else study.status.last_update.value
    created = f"{source_date.isoformat()}T00:00:00"
    odm = ODM.ODM(
        FileOID=f"ODM.{nct}.eCRF",
        FileType="Snapshot",
        Granularity="Metadata",
        CreationDateTime=created,
        ODMVersion="1.3.2",
        Originator="trialbook (the NCT06375005 protocol book)",
        SourceSystem="trialbook export",
        SourceSystemVersion="1",
    )
    odm_study = ODM.Study(OID=f"ST.{nct}")
    odm_study.GlobalVariables = ODM.GlobalVariables(
        StudyName=ODM.StudyName(_content=nct),
        StudyDescription=ODM.StudyDescription(_content=study.identification.brief_title.value),
        ProtocolName=ODM.ProtocolName(_content=study.identification.org_study_id.value),
    )
    mdv = ODM.MetaDataVersion(
        OID="MDV.1",
        Name=f"Screening eCRF, protocol {version.label if version else 'unversioned'}",
        Description="The participant record and the eligibility criteria, from study.yaml",
    )
    mdv.Protocol = ODM.Protocol()
    mdv.Protocol.StudyEventRef = [
        ODM.StudyEventRef(StudyEventOID="SE.SCREENING", Mandatory="Yes", OrderNumber=1)
    ]
    event = ODM.StudyEventDef(
        OID="SE.SCREENING", Name="Screening", Repeating="No", Type="Scheduled"
    )
    event.FormRef = [
        ODM.FormRef(FormOID="F.RECORD", Mandatory="Yes", OrderNumber=1),
        ODM.FormRef(FormOID="F.ELIGIBILITY", Mandatory="Yes", OrderNumber=2),
    ]
    mdv.StudyEventDef = [event]
    record_form = ODM.FormDef(OID="F.RECORD", Name="Screening record", Repeating="No")
    record_form.ItemGroupRef = [
        ODM.ItemGroupRef(ItemGroupOID=oid, Mandatory="No", OrderNumber=n)
        for n, (oid, _, _, _) in enumerate(groups, start=1)
    ]
    eligibility_form = ODM.FormDef(OID="F.ELIGIBILITY", Name="Eligibility", Repeating="No")
    eligibility_form.ItemGroupRef = [
        ODM.ItemGroupRef(ItemGroupOID="IG.ELIGIBILITY", Mandatory="Yes", OrderNumber=1)
    ]
    mdv.FormDef = [record_form, eligibility_form]
    item_groups = []
    for oid, name, repeating, items in groups:
        group = ODM.ItemGroupDef(OID=oid, Name=name[:200], Repeating="Yes" if repeating else "No")
        group.ItemRef = [
            ODM.ItemRef(ItemOID=item, Mandatory="No", OrderNumber=n)
            for n, item in enumerate(items, start=1)
        ]
        item_groups.append(group)
    eligibility = ODM.ItemGroupDef(
        OID="IG.ELIGIBILITY", Name="Eligibility criteria", Repeating="No"
    )
    eligibility.ItemRef = [
        ODM.ItemRef(ItemOID=f"IT.ELIGIBILITY.{c.id}", Mandatory="Yes", OrderNumber=n)
        for n, c in enumerate(study.criteria, start=1)
    ]
    item_groups.append(eligibility)
    mdv.ItemGroupDef = item_groups
    definitions = []
    for spec in collector.items:
        keywords = {k: spec[k] for k in ("OID", "Name", "DataType", "Length") if k in spec}
        item = ODM.ItemDef(**keywords)
        item.Question = _text(ODM.Question, spec["question"])
        if "code_list" in spec:
            item.CodeListRef = ODM.CodeListRef(CodeListOID=spec["code_list"])
        for comparator, bound in spec.get("bounds", []):
            check = ODM.RangeCheck(Comparator=comparator, SoftHard="Hard")
            check.CheckValue = [ODM.CheckValue(_content=str(bound))]
            words = "at least" if comparator == "GE" else "at most"
            check.ErrorMessage = _text(ODM.ErrorMessage, f"The value is {words} {bound}")
            item.RangeCheck.append(check)
        definitions.append(item)
    for criterion in study.criteria:
        item = ODM.ItemDef(
            OID=f"IT.ELIGIBILITY.{criterion.id}", Name=criterion.id, DataType="text", Length=1
        )
        item.Question = _text(
            ODM.Question,
            f"{criterion.id} ({criterion.category} criterion): is it met? {criterion.text}",
        )
        item.CodeListRef = ODM.CodeListRef(CodeListOID=YES_NO)
        definitions.append(item)
    mdv.ItemDef = definitions
    code_lists = [_code_list(ODM, YES_NO, "No Yes Response", [("Y", "Yes"), ("N", "No")])]
    for oid, (path, choices) in collector.code_lists.items():
        code_lists.append(_code_list(ODM, oid, path, choices))
    mdv.CodeList = code_lists
    odm_study.MetaDataVersion = [mdv]
    odm.Study = [odm_study]
    return odm


def _code_list(ODM: Any, oid: str, name: str, items: list[tuple[str, str]]) -> Any:
    code_list = ODM.CodeList(OID=oid, Name=name, DataType="text")
    for n, (coded, decode) in enumerate(items, start=1):
        entry = ODM.CodeListItem(CodedValue=coded, OrderNumber=n)
        entry.Decode = _text(ODM.Decode, decode)
        code_list.CodeListItem.append(entry)
    return code_list


def xml_bytes(odm: Any) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ecrf.xml"
        odm.write_xml(str(path))
        return path.read_bytes()


def validate_xml(data: bytes) -> list[Finding]:
    """The ODM 1.3.2 XML schema shipped with odmlib: every error, not only the first."""
    from odmlib.odm_parser import ODMSchemaValidator

    validator = ODMSchemaValidator(standard="odm", version="1.3.2")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ecrf.xml"
        path.write_bytes(data)
        try:
            errors = list(validator.xsd.iter_errors(str(path)))
        except Exception as exc:  # not XML at all
            return [Finding("ODM 1.3.2 schema", "(the file)", str(exc).splitlines()[0])]
    return [Finding("ODM 1.3.2 schema", str(e.path), str(e.reason)) for e in errors]


def validate_oids(odm: Any) -> list[Finding]:
    """odmlib's OID check: every reference resolves, and every definition is referenced."""
    from odmlib.exceptions import OdmlibOIDError
    from odmlib.oid_generator import create_oid_checker

    checker = create_oid_checker("odm_1_3_2")
    try:
        odm.verify_oids(checker)
    except OdmlibOIDError as exc:
        return [Finding("odmlib OID references", "OID", str(exc))]
    # the Study and MetaDataVersion are the roots: nothing refers to them
    roots = {odm.Study[0].OID, odm.Study[0].MetaDataVersion[0].OID}
    return [
        Finding("odmlib OID references", oid, f"defined ({kind}) but never referenced")
        for oid, kind in sorted(odm.unreferenced_oids(checker).items())
        if oid not in roots
    ]


def export(study: Study | None = None) -> Export:
    study = study_or_default(study)
    odm = build(study)
    data = xml_bytes(odm)
    findings = validate_xml(data) + validate_oids(odm)
    return Export(
        "CDISC ODM 1.3.2",
        {"odm/ecrf.xml": data},
        [
            "ODM 1.3.2 XML schema (odmlib)",
            "odmlib's check of the references between definitions",
        ],
        findings,
        contents=(
            "The screening case report form an electronic data capture system imports: every "
            "field of the participant record, with its type, question and list of values, and a "
            "yes/no question for each of the 37 criteria."
        ),
    )
