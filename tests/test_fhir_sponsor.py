"""The FHIR ResearchStudy names the registry's lead sponsor (a reviewer found it left out of
both versions, though it is a registry fact), and the bundles still pass every validator."""

from __future__ import annotations

import json

from exports import fhir
from protocol.registry_check import load_record
from protocol.study import load_study

SPONSOR = load_record()["protocolSection"]["sponsorCollaboratorsModule"]["leadSponsor"]["name"]


def _study_resource(bundle: dict) -> dict:
    return next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ResearchStudy"
    )


def test_r4b_names_the_lead_sponsor():
    study = _study_resource(fhir.bundles(load_study())["R4B"])
    assert study["sponsor"] == {"display": SPONSOR}


def test_r5_names_the_lead_sponsor_by_its_role():
    study = _study_resource(fhir.bundles(load_study())["R5"])
    assert study["associatedParty"] == [
        {
            "name": SPONSOR,
            "role": {"coding": [{"system": fhir.PARTY_ROLE_SYSTEM, "code": "lead-sponsor"}]},
        }
    ]


def test_the_bundles_with_the_sponsor_pass_the_validators():
    found = fhir.bundles(load_study())
    assert fhir.validate_models("R4B", found["R4B"]) == []
    assert fhir.validate_models("R5", found["R5"]) == []
    assert fhir.validate_schema(found["R4B"]) == []
    assert SPONSOR in json.dumps(found["R5"], ensure_ascii=False)
