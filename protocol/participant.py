"""The participant record: one screening's data, as a coordinator fills it in (YAML or JSON).

Every field the criteria use is optional in the file: a field that is absent (or null) is
*missing*, and each criterion that needs it is *unknown*, never passed. What is present is
validated strictly: an unknown key, a wrong type, an impossible date order or a birth date in
the future is an error naming the field. An empty list (``medications: []``) means "none", which
is different from an absent list.

The `Data dictionary` chapter and `trialbook schema` are generated from these models.
"""

from __future__ import annotations

import datetime
import itertools
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from protocol.documents import read_yaml, validate_document
from protocol.identifiers import (
    CODE_PATTERN,
    IDENTIFYING,
    PLACEHOLDER_CODES,
    field_name_like,
    identifying_code,
)
from protocol.inputs import MedicineName, Number, StrictDate, Text

Date = StrictDate


# -- the medications and events lists (the washout calculator reads the same entries) ------------

#: Routes of administration a coordinator records. Intra-articular, intralesional, nasal and
#: ophthalmic corticosteroids are local: how EX11 reads them is in the issues log (PI12, PI27).
RouteCode = Literal[
    "oral",
    "iv",
    "im",
    "sc",
    "topical",
    "inhaled",
    "intra_articular",
    "intralesional",
    "nasal",
    "ophthalmic",
]

#: The words for each route that prescriptions and CDISC's route terms use, in any case
#: ("IV", "Intravenous", "PO"): each names one route, so reading it guesses nothing. Transdermal
#: and other routes are not among them (a patch is systemic): they are refused.
ROUTE_WORDS = {
    "oral": ("oral", "po", "p.o."),
    "iv": ("iv", "i.v.", "intravenous"),
    "im": ("im", "i.m.", "intramuscular"),
    "sc": ("sc", "s.c.", "sq", "subcutaneous"),
    "topical": ("topical",),
    "inhaled": ("inhaled", "inhalation"),
    "intra_articular": ("intra_articular", "intra-articular", "intraarticular"),
    "intralesional": ("intralesional",),
    "nasal": ("nasal", "intranasal"),
    "ophthalmic": ("ophthalmic",),
}
_ROUTE_OF_WORD = {word: code for code, words in ROUTE_WORDS.items() for word in words}


def _route_code(value: Any) -> Any:
    """A route's word as its code (``IV`` -> ``iv``); anything else as it is, for the field to
    refuse in its words."""
    if isinstance(value, str):
        return _ROUTE_OF_WORD.get(" ".join(value.split()).lower(), value)
    return value


Route = Annotated[RouteCode, BeforeValidator(_route_code)]


class MedicationEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: MedicineName
    start: StrictDate | None = Field(
        None, description="First dose of this course (optional; decides which courses overlap)"
    )
    last_dose: StrictDate | None = None
    ongoing: bool = False
    dose: Text | None = Field(None, description="Dose per administration, e.g. '7.5 mg'")
    frequency: Text | None = Field(None, description="e.g. 'once daily', 'twice daily', 'weekly'")
    route: Route | None = None
    investigator_cleared: bool = Field(
        False,
        description="Where the protocol leaves the decision to the investigator (a medicine the "
        "catalogue does not know, or a class without a window): the investigator attests it "
        "does not exclude. Needs clearance_reason.",
    )
    clearance_reason: Text | None = Field(
        None, description="Why the investigator clears it (required with investigator_cleared)"
    )

    @model_validator(mode="after")
    def _one_of_last_dose_or_ongoing(self) -> MedicationEntry:
        problems = []
        if self.last_dose is not None and self.ongoing:
            problems.append(
                "give 'last_dose: YYYY-MM-DD' for a stopped medicine or 'ongoing: true' for one "
                "still taken, not both (leave both out if the last dose's date is not known)"
            )
        if self.start and self.last_dose and self.start > self.last_dose:
            problems.append(
                f"start = {self.start} is after last_dose = {self.last_dose}; a course starts "
                f"before its last dose"
            )
        problems += _clearance_problems(self.investigator_cleared, self.clearance_reason)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _clearance_problems(cleared: bool, reason: str | None) -> list[str]:
    if cleared and not reason:
        return [
            "investigator_cleared = true needs clearance_reason (why the investigator clears it)"
        ]
    if reason and not cleared:
        return ["clearance_reason is given without investigator_cleared = true"]
    return []


class EventEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    kind: Text
    date: StrictDate | None = None  # the field is named as the input file names it
    ongoing: bool = False
    investigator_cleared: bool = Field(
        False,
        description="Where the protocol leaves the decision to the investigator (an infection "
        "event after screening, PI15). Needs clearance_reason.",
    )
    clearance_reason: Text | None = None

    @model_validator(mode="after")
    def _clearance_has_a_reason(self) -> EventEntry:
        problems = _clearance_problems(self.investigator_cleared, self.clearance_reason)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class _Record(BaseModel):
    # strict: true/false are the only booleans, integers are not booleans, text is not a number
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Dates(_Record):
    """The dates of this screening."""

    birth: Date | None = Field(None, description="Date of birth (IN01; age for eGFR)")
    consent: Date | None = Field(None, description="Date informed consent was signed (IN07)")
    screening: Date | None = Field(None, description="Date of the screening visit")
    planned_randomization: Date | None = Field(
        None, description="Planned date of randomization (washout windows)"
    )


class PregnancyTest(_Record):
    result: Literal["negative", "positive"]
    sample: Literal["serum", "urine"]
    date: Date = Field(description="On or before the screening date")


class AcrEularFindings(_Record):
    """The items of the 2013 ACR/EULAR classification criteria: true, false, or absent."""

    skin_thickening_proximal_to_mcp: bool | None = None
    puffy_fingers: bool | None = None
    sclerodactyly: bool | None = None
    digital_tip_ulcers: bool | None = None
    fingertip_pitting_scars: bool | None = None
    telangiectasia: bool | None = None
    abnormal_nailfold_capillaries: bool | None = None
    pah: bool | None = None
    ild: bool | None = None
    raynaud: bool | None = None
    anticentromere: bool | None = None
    anti_topoisomerase_i: bool | None = None
    anti_rna_polymerase_iii: bool | None = None
    skin_thickening_sparing_fingers: bool | None = Field(
        None, description="If true, the criteria are not applicable"
    )
    better_explained_by_other_disorder: bool | None = Field(
        None, description="If true (a scleroderma-like disorder), the criteria are not applicable"
    )


Grade = Annotated[int, Field(ge=0, le=3)]


class SkinAreas(_Record):
    """The mRSS grade (0-3) of each of the 17 areas."""

    face: Grade | None = None
    anterior_chest: Grade | None = None
    abdomen: Grade | None = None
    right_fingers: Grade | None = None
    left_fingers: Grade | None = None
    right_hand: Grade | None = None
    left_hand: Grade | None = None
    right_forearm: Grade | None = None
    left_forearm: Grade | None = None
    right_upper_arm: Grade | None = None
    left_upper_arm: Grade | None = None
    right_thigh: Grade | None = None
    left_thigh: Grade | None = None
    right_lower_leg: Grade | None = None
    left_lower_leg: Grade | None = None
    right_foot: Grade | None = None
    left_foot: Grade | None = None


#: The two mRSS areas of the fingers (the 2013 items' "sparing the fingers" is about them).
FINGER_AREAS = ("right_fingers", "left_fingers")


def graded_range(areas: SkinAreas) -> tuple[int, int]:
    """The lowest and highest total the graded areas allow (each ungraded area 0 to 3)."""
    grades = list(areas.model_dump().values())
    graded = sum(grade for grade in grades if grade is not None)
    return graded, graded + 3 * grades.count(None)


class Mrss(_Record):
    areas: SkinAreas | None = Field(None, description="Grades of the 17 areas")
    total: int | None = Field(
        None, ge=0, le=51, description="A recorded total, when the areas are not transcribed"
    )

    @model_validator(mode="after")
    def _total_agrees_with_areas(self) -> Mrss:
        if self.areas is not None and self.total is not None:
            recorded, highest = graded_range(self.areas)
            unrecorded = (highest - recorded) // 3
            if not recorded <= self.total <= highest:
                raise ValueError(
                    f"total = {self.total} but the recorded areas add up to {recorded}"
                    + (f" with {unrecorded} area(s) ungraded" if unrecorded else "")
                    + "; give one, or make them agree"
                )
        return self


class SscFindings(_Record):
    acr_eular: AcrEularFindings | None = None
    mrss: Mrss | None = None
    back_skin_thickening: bool | None = Field(
        None,
        description="Skin thickening of the back (trunk; LeRoy), which the mRSS does not grade",
    )
    first_non_raynaud_manifestation: Date | None = Field(
        None, description="Date of the first manifestation other than Raynaud's (IN04, EX02)"
    )


class Malignancy(_Record):
    type: Text
    date: Date | None = Field(
        None, description="The latest of diagnosis, end of treatment or last evidence (PI16)"
    )
    excepted_type: bool = Field(
        description="Excised/cured local basal or squamous cell carcinoma of the skin, or "
        "carcinoma in situ of the uterine cervix (EX25's exception; the type must name one "
        "and say no more than that it was excised or cured and where on the skin, or "
        "the investigator confirms it)"
    )


class History(_Record):
    renal_crisis: bool | None = Field(None, description="Any prior scleroderma renal crisis (EX05)")
    other_rheumatic_autoimmune_disease: bool | None = Field(None, description="EX03")
    environmental_ssc_like_illness: bool | None = Field(
        None, description="SSc-like illness from vinyl chloride, bleomycin etc. (EX04)"
    )
    malignancies: list[Malignancy] | None = Field(
        None, description="Every malignancy ever; an empty list means none (EX25)"
    )
    immunodeficiency: bool | None = Field(None, description="Primary or secondary (EX21)")
    antibody_allergy: bool | None = Field(
        None,
        description="Allergic or anaphylactic reaction to human, humanized or murine "
        "monoclonal antibodies (EX28)",
    )


class Pulmonary(_Record):
    fvc_percent_predicted: Number | None = Field(None, description="FVC, % of predicted (EX07)")
    dlco_percent_predicted: Number | None = Field(
        None, description="DLCO corrected for haemoglobin, % of predicted (EX07)"
    )
    oxygen_therapy: bool | None = Field(None, description="Requires oxygen therapy (EX07)")


class LabValue(_Record):
    value: Number
    unit: Text
    uln: Number | None = Field(None, description="The site's upper limit of normal")
    uln_unit: Text | None = Field(None, description="Unit of the ULN if not that of the value")


class Labs(_Record):
    """Screening laboratory values, each in any unit the site reports (EX22, EX24)."""

    hemoglobin: LabValue | None = None
    wbc: LabValue | None = None
    neutrophils: LabValue | None = None
    platelets: LabValue | None = None
    alt: LabValue | None = None
    ast: LabValue | None = None
    total_bilirubin: LabValue | None = None
    egfr: LabValue | None = Field(None, description="A reported eGFR, or give creatinine")
    creatinine: LabValue | None = Field(None, description="eGFR is computed (CKD-EPI 2021)")
    iga: LabValue | None = None
    igg: LabValue | None = None


class InfectionScreening(_Record):
    hepatitis_b: Literal["negative", "resolved", "active", "chronic"] | None = Field(
        None, description="What HBV testing indicates (EX17)"
    )
    hepatitis_c: Literal["negative", "resolved", "active", "chronic"] | None = Field(
        None, description="What HCV testing indicates (EX17)"
    )
    tuberculosis: Literal["negative", "latent", "active"] | None = Field(None, description="EX18")
    hiv: Literal["negative", "positive"] | None = Field(
        None, description="Seropositive or known history is positive (EX19)"
    )
    active_infection: bool | None = Field(None, description="Known active infection (EX20)")


class Attestation(_Record):
    """The investigator's judgement on a criterion that is not computed."""

    applies: bool = Field(
        description="Yes (true) when the criterion's condition applies to the participant (for an "
        "inclusion criterion, it is met; for an exclusion criterion, it excludes)"
    )
    date: Date = Field(description="On or before the screening date")


ATTESTED_CRITERIA = ("IN07", "EX16", "EX30")

#: The oldest age at screening accepted (an older one is a mistyped birth date).
MAXIMUM_PLAUSIBLE_AGE = 120

#: The risk categories of a pulmonary arterial hypertension (pah_risk's values but "none").
PAH_RISKS = ("low", "intermediate", "high")


def age_in_years(birth: datetime.date, on: datetime.date) -> int:
    """Completed years (dateutil; the same count as the screening engine's)."""
    from dateutil.relativedelta import relativedelta

    return relativedelta(on, birth).years


class Attestations(_Record):
    """The investigator's attestations, by criterion ID: IN07, EX16 and EX30, and any criterion
    an amendment adds before the book has its rule (such as EX31). One for a criterion the
    study in use decides from the record, or does not have, is refused."""

    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        strict=True,
        json_schema_extra={"propertyNames": {"pattern": "^(IN|EX)[0-9]{2}$"}},
    )
    __pydantic_extra__: dict[str, Attestation | None]
    #: how an error names the mapping's keys: criterion IDs, an amendment's own among them
    fields_in_words: ClassVar[str] = "IN07, EX16, EX30, or the ID of a criterion an amendment added"

    IN07: Attestation | None = Field(None, description="Able to render informed consent")
    EX16: Attestation | None = Field(None, description="Concurrent serious medical condition")
    EX30: Attestation | None = Field(None, description="Anticipated non-compliance")

    @model_validator(mode="after")
    def _criterion_ids(self) -> Attestations:
        for name in self.__pydantic_extra__ or {}:
            if not re.fullmatch(r"(IN|EX)[0-9]{2}", name):
                # a key that may name a person is not repeated (Zhang Wei: {applies: true})
                key = name if field_name_like(name) else "(a key, withheld: it may name a person)"
                raise ValueError(
                    f"attestations.{key}: not a criterion ID; expected IN07, EX16, EX30 or the "
                    "ID of a criterion an amendment added (such as EX31)"
                )
        return self

    def recorded(self) -> dict[str, Attestation]:
        """Every attestation recorded, by criterion ID."""
        named = {name: getattr(self, name) for name in ATTESTED_CRITERIA}
        return {k: v for k, v in {**named, **(self.__pydantic_extra__ or {})}.items() if v}

    def of(self, criterion: str) -> Attestation | None:
        return self.recorded().get(criterion)


class ParticipantRecord(_Record):
    """One participant's screening record (synthetic in this repository)."""

    participant: str = Field(
        min_length=1,
        max_length=40,
        pattern=CODE_PATTERN,
        description="The site's participant code (never a name, a date, a phone or ID card "
        "number): letters, digits, '_', '.' or '-'; a code with no digit is written in capitals "
        "(a word in lower case may be a name)",
    )
    dates: Dates = Dates()

    @field_validator("participant")
    @classmethod
    def _a_pseudonymous_code(cls, code: str) -> str:
        # as prescreen reads its candidates' IDs: a code written as a phone or ID card number
        # or a calendar date (a birth date) identifies a person, and the report repeats it
        if identifying_code(code):
            raise ValueError(IDENTIFYING)
        if code.lower() in PLACEHOLDER_CODES:  # "NA", "TRUE": what a spreadsheet writes for none
            raise ValueError(
                "a participant code; this text stands for none (a missing or empty value, or "
                "a yes/no answer)"
            )
        return code

    sex: Literal["female", "male"] | None = None
    childbearing_potential: bool | None = Field(None, description="Women only (IN06, EX27)")
    pregnancy_test: PregnancyTest | None = Field(None, description="At the screening visit (IN06)")
    breastfeeding: bool | None = Field(None, description="EX27")
    contraception_agreed: bool | None = Field(
        None, description="Willing to use adequate contraception (EX27)"
    )
    ssc: SscFindings = SscFindings()
    history: History = History()
    pah_risk: Literal["none", "low", "intermediate", "high"] | None = Field(
        None, description="Pulmonary arterial hypertension risk category; none = no PAH (EX06)"
    )
    pulmonary: Pulmonary = Pulmonary()
    labs: Labs = Labs()
    infection_screening: InfectionScreening = InfectionScreening()
    medications: list[MedicationEntry] | None = Field(
        None, description="Every medicine of the look-back periods; an empty list means none"
    )
    events: list[EventEntry] | None = Field(
        None, description="Surgery, vaccines, investigational drugs, infections; empty = none"
    )
    attestations: Attestations = Attestations()

    @model_validator(mode="after")
    def _dates_are_possible(self) -> ParticipantRecord:
        d = self.dates
        problems = []
        order = [
            ("birth", d.birth),
            ("consent", d.consent),
            ("screening", d.screening),
            ("planned_randomization", d.planned_randomization),
        ]
        # one date mistyped puts many out of order: a birth date in the future, or after the
        # consent or screening and another date, or a screening date before the consent and
        # another date that comes by it, is said once, of that date (where the visit dates
        # agree with each other, the dates out of order are named each: 200 medicines dated
        # 1950 are more likely mistyped than the birth)
        visits = ("dates.consent", "dates.screening", "dates.planned_randomization")
        before_birth = self._before_birth()
        birth_wrong = d.birth is not None and (
            d.birth > datetime.date.today()
            or (len(before_birth) >= 2 and any(path in visits for path, _ in before_birth))
        )
        after_screening = self._after_screening()
        screening_wrong = len(after_screening) >= 2 and any(
            path == "dates.consent" for path, _ in after_screening
        )
        known = [(name, value) for name, value in order if value is not None]
        for (first, a), (second, b) in itertools.pairwise(known):
            if a > b and not (birth_wrong and first == "birth"):
                if screening_wrong and second == "screening":
                    continue
                problems.append(
                    f"dates.{second} = {b} is before dates.{first} = {a}; expected birth, "
                    f"consent, screening and randomization in that order"
                )
        if birth_wrong:
            problems.append(self._birth_out_of_order(before_birth))
        if screening_wrong:
            path, latest = max(after_screening, key=lambda pair: pair[1])
            problems.append(
                f"dates.screening = {d.screening} is before {len(after_screening)} dates that "
                f"come by the screening visit (the latest: {path} = {latest}); expected a "
                "screening date on or after each"
            )
        first = self.ssc.first_non_raynaud_manifestation
        if first and d.screening and first > d.screening and not screening_wrong:
            problems.append(
                f"ssc.first_non_raynaud_manifestation = {first} is after dates.screening = "
                f"{d.screening}; expected a date on or before the screening visit"
            )
        if first and d.birth and first < d.birth and not birth_wrong:
            problems.append(
                f"ssc.first_non_raynaud_manifestation = {first} is before dates.birth = "
                f"{d.birth}; expected a date on or after the birth"
            )
        problems += self._contradictions()
        if not screening_wrong:
            problems += self._dates_not_after_screening(after_screening)
        problems += self._dates_not_before_birth([] if birth_wrong else before_birth)
        problems += self._too_old_without_a_birth_date()
        if self.labs.egfr is not None and self.labs.creatinine is not None:
            problems.append("labs: give egfr or creatinine, not both")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _contradictions(self) -> list[str]:
        """Facts that cannot all be true: a record that says them is bad input, not a verdict."""
        problems = []
        test = self.pregnancy_test
        if self.sex == "male":
            if self.childbearing_potential:
                problems.append(
                    "childbearing_potential = true with sex = male; expected false for a man, or "
                    "the sex corrected"
                )
            if self.breastfeeding:
                problems.append(
                    "breastfeeding = true with sex = male; expected false for a man, or the sex "
                    "corrected"
                )
            if test is not None and test.result == "positive":
                problems.append(
                    "pregnancy_test.result = 'positive' with sex = male; expected a woman's test, "
                    "or the sex corrected"
                )
        if self.childbearing_potential is False and test is not None and test.result == "positive":
            problems.append(
                "pregnancy_test.result = 'positive' for a woman recorded as not of childbearing "
                "potential (childbearing_potential = false)"
            )
        findings = self.ssc.acr_eular
        if findings is not None and findings.pah and self.pah_risk == "none":
            # the classification item says PAH; the risk category says there is none (EX06
            # would pass a PAH whose risk is not known)
            problems.append(
                "ssc.acr_eular.pah = true (pulmonary arterial hypertension) with pah_risk = "
                "'none' (no PAH); expected the PAH's risk category: low, intermediate or high"
            )
        if findings is not None and findings.pah is False and self.pah_risk in PAH_RISKS:
            # the mirror: a risk category is a PAH's, which the classification item denies
            # (IN02 would score without its 2 points)
            problems.append(
                f"pah_risk = {self.pah_risk!r} (a pulmonary arterial hypertension's risk "
                "category) with ssc.acr_eular.pah = false (no PAH); expected pah_risk = 'none', "
                "or the item true"
            )
        if findings is not None and findings.skin_thickening_sparing_fingers:
            # every finding of thickened fingers, in one line: one answer contradicts them all
            thickened = [
                f"ssc.acr_eular.{item} = true"
                for item in ("skin_thickening_proximal_to_mcp", "sclerodactyly")
                if getattr(findings, item)
            ]
            areas = self.ssc.mrss.areas if self.ssc.mrss else None
            thickened += [
                f"ssc.mrss.areas.{finger} = {getattr(areas, finger)}"
                for finger in FINGER_AREAS
                if areas is not None and (getattr(areas, finger) or 0) >= 1
            ]
            if thickened:
                problems.append(
                    "ssc.acr_eular.skin_thickening_sparing_fingers = true with thickened "
                    f"fingers recorded ({', '.join(thickened)}); expected false, or the "
                    "fingers recorded as not thickened"
                )
            elif self.implied_finger_grades() and self.ssc.mrss and self.ssc.mrss.total is not None:
                # the fingers spared are at 0: the recorded total lies on the other areas
                implied = self.implied_finger_grades()
                _, highest = graded_range(self.ssc_as_implied().mrss.areas)
                total = self.ssc.mrss.total
                if total > highest:
                    problems.append(
                        "ssc.acr_eular.skin_thickening_sparing_fingers = true with "
                        f"ssc.mrss.total = {total}: the fingers spared are at 0 (ssc.mrss.areas."
                        f"{' and '.join(implied)} not graded), so the areas add up to at most "
                        f"{highest}; expected the total to agree, or false"
                    )
        if findings is not None and findings.skin_thickening_sparing_fingers is False:
            spared = self._thickening_sparing_the_fingers()
            if spared:
                problems.append(
                    "ssc.acr_eular.skin_thickening_sparing_fingers = false with skin thickening "
                    f"that spares the fingers: {spared}; the classification criteria do not "
                    "apply to it"
                )
        return problems

    def implied_acr_eular(self) -> dict[str, bool]:
        """The 2013 items and flags not recorded whose one value the rest of the record allows
        (the other is refused as a contradiction): the PAH item from the PAH risk category, and
        "sparing the fingers" from the fingers' mRSS grades (graded thickened: it does not
        spare them) or from thickening that spares them (the flag false would be refused)."""
        findings = self.ssc.acr_eular
        implied: dict[str, bool] = {}
        if (findings is None or findings.pah is None) and self.pah_risk is not None:
            implied["pah"] = self.pah_risk in PAH_RISKS
        if findings is None or findings.skin_thickening_sparing_fingers is None:
            areas = self.ssc.mrss.areas if self.ssc.mrss else None
            fingers = (areas.right_fingers, areas.left_fingers) if areas else ()
            if any((grade or 0) >= 1 for grade in fingers):
                implied["skin_thickening_sparing_fingers"] = False
            elif self._thickening_sparing_the_fingers():
                implied["skin_thickening_sparing_fingers"] = True
        once = self.fingers_once_thickened()
        if len(once) == 1:  # the other recorded absent: this one was present
            implied[once[0]] = True
        return implied

    def implied_finger_grades(self) -> dict[str, int]:
        """The fingers' mRSS grades not recorded whose one value the record allows: thickening
        recorded as sparing the fingers leaves them at 0 (a grade of 1 or more is refused as a
        contradiction)."""
        findings = self.ssc.acr_eular
        areas = self.ssc.mrss.areas if self.ssc.mrss else None
        if findings is None or not findings.skin_thickening_sparing_fingers or areas is None:
            return {}
        return {finger: 0 for finger in FINGER_AREAS if getattr(areas, finger) is None}

    def ssc_as_implied(self) -> SscFindings:
        """The SSc findings with the grades the record implies filled in
        (:meth:`implied_finger_grades`): what the criteria read."""
        implied = self.implied_finger_grades()
        mrss = self.ssc.mrss
        if not implied or mrss is None or mrss.areas is None:
            return self.ssc
        areas = mrss.areas.model_copy(update=implied)
        return self.ssc.model_copy(update={"mrss": mrss.model_copy(update={"areas": areas})})

    def fingers_once_thickened(self) -> tuple[str, ...]:
        """The finger items not recorded that one of must be met: thickening recorded as not
        sparing the fingers, beside fingers graded 0 in the mRSS and another area thickened,
        means the fingers were thickened once, sclerodactyly or thickening proximal to the
        MCPs (both recorded absent, the record is refused as a contradiction). Empty where
        this does not apply, or one of them is recorded present."""
        findings = self.ssc.acr_eular
        if findings is None or findings.skin_thickening_sparing_fingers is not False:
            return ()
        items = ("sclerodactyly", "skin_thickening_proximal_to_mcp")
        values = [getattr(findings, item) for item in items]
        if True in values or None not in values or not self._thickened_beside_fingers_at_0():
            return ()
        return tuple(item for item, value in zip(items, values, strict=True) if value is None)

    def dates_after_birth(self) -> list[datetime.date]:
        """Every recorded date that comes on or after birth (a record with one before it is
        refused): without a birth date, the latest it can be is the earliest of these."""
        return [day for _, day in self._dated_after_birth()]

    def _dated_after_birth(self) -> list[tuple[str, datetime.date]]:
        d = self.dates
        dated = [
            ("dates.consent", d.consent),
            ("dates.screening", d.screening),
            ("dates.planned_randomization", d.planned_randomization),
            ("ssc.first_non_raynaud_manifestation", self.ssc.first_non_raynaud_manifestation),
        ]
        for i, med in enumerate(self.medications or []):
            dated += [(f"medications[{i}].start", med.start)]
            dated += [(f"medications[{i}].last_dose", med.last_dose)]
        dated += [(f"events[{i}].date", e.date) for i, e in enumerate(self.events or [])]
        malignancies = self.history.malignancies or []
        dated += [(f"history.malignancies[{i}].date", m.date) for i, m in enumerate(malignancies)]
        dated += [
            (f"attestations.{name}.date", attestation.date)
            for name, attestation in self.attestations.recorded().items()
        ]
        if self.pregnancy_test is not None:
            dated.append(("pregnancy_test.date", self.pregnancy_test.date))
        return [(path, day) for path, day in dated if day is not None]

    def _too_old_without_a_birth_date(self) -> list[str]:
        """Without a birth date, a dated entry puts the birth on or before it: one more than
        120 years before the screening makes every birth date the record allows implausible,
        as a recorded one would be (refused, not read as an age of 121)."""
        if self.dates.birth is not None:
            return []
        screening = self.dates.screening or self.latest_before_screening()
        dated = self._dated_after_birth()
        if screening is None or not dated:
            return []
        path, earliest = min(dated, key=lambda pair: pair[1])
        if screening.year - earliest.year <= MAXIMUM_PLAUSIBLE_AGE:
            return []
        age = age_in_years(earliest, screening)
        if age <= MAXIMUM_PLAUSIBLE_AGE:
            return []
        return [
            f"{path} = {earliest}: born on or before it, the participant is at least {age} "
            f"years old at screening, which is implausible; expected an age of at most "
            f"{MAXIMUM_PLAUSIBLE_AGE}: check the date"
        ]

    def _thickening_sparing_the_fingers(self) -> str:
        """What shows skin thickening that spares the fingers, or "": the fingers never
        thickened (sclerodactyly and thickening proximal to the MCPs recorded as absent), not
        thickened now (both graded 0 in the mRSS), and another area thickened."""
        findings = self.ssc.acr_eular
        if findings is None or (
            findings.sclerodactyly is not False
            or findings.skin_thickening_proximal_to_mcp is not False
        ):
            return ""
        elsewhere = self._thickened_beside_fingers_at_0()
        if not elsewhere:
            return ""
        return (
            "ssc.acr_eular.sclerodactyly and skin_thickening_proximal_to_mcp = false, "
            f"ssc.mrss.areas.right_fingers and left_fingers = 0, {elsewhere}"
        )

    def _thickened_beside_fingers_at_0(self) -> str:
        """Both fingers graded 0 in the mRSS and another area thickened: the first such area
        (or the recorded total above the graded areas), else ""."""
        areas = self.ssc.mrss.areas if self.ssc.mrss else None
        if areas is None:
            return ""
        # (every record is checked: the fingers first, each other field read only when 0)
        if areas.right_fingers != 0 or areas.left_fingers != 0:
            return ""
        grades = {name: getattr(areas, name) for name in type(areas).model_fields}
        elsewhere = [f"{name} = {grade}" for name, grade in grades.items() if (grade or 0) >= 1]
        total = self.ssc.mrss.total if self.ssc.mrss else None
        graded = sum(grade or 0 for grade in grades.values())
        if not elsewhere and total is not None and total > graded:
            # the recorded total puts the rest on the areas not graded, none of them a finger
            elsewhere = [f"ssc.mrss.total = {total} (the areas not graded hold {total - graded})"]
        return elsewhere[0] if elsewhere else ""

    def _before_birth(self) -> list[tuple[str, datetime.date]]:
        """Every recorded date before the birth date (each is out of order)."""
        birth = self.dates.birth
        if birth is None:
            return []
        return [(path, day) for path, day in self._dated_after_birth() if day < birth]

    def _birth_out_of_order(self, before_birth: list[tuple[str, datetime.date]]) -> str:
        """The birth date in the future, or after two or more other dates: one line."""
        birth = self.dates.birth
        wrong = []
        if birth is not None and birth > datetime.date.today():
            wrong.append("is in the future")
        if before_birth:
            path, earliest = min(before_birth, key=lambda pair: pair[1])
            count = len(before_birth)
            wrong.append(
                f"is after {count} other date{'s' if count > 1 else ''} of the record (the "
                f"earliest: {path} = {earliest})"
            )
        return (
            f"dates.birth = {birth} {' and '.join(wrong)}; expected a birth date in the past, "
            "before every other date"
        )

    def _after_screening(self) -> list[tuple[str, datetime.date]]:
        """Every date that comes by the screening visit (consent, the first manifestation,
        tests, attestations, history) recorded after it."""
        screening = self.dates.screening
        if screening is None:
            return []
        dated = [
            ("dates.consent", self.dates.consent),
            ("ssc.first_non_raynaud_manifestation", self.ssc.first_non_raynaud_manifestation),
            *self._dated_by_screening(),
        ]
        return [(path, day) for path, day in dated if day is not None and day > screening]

    def _dates_not_before_birth(self, before_birth: list[tuple[str, datetime.date]]) -> list[str]:
        """Nothing happens before birth, and nobody is screened older than 120 (implausible);
        each of ``before_birth`` is named, but the visit dates and the first manifestation
        (named by their own checks)."""
        birth = self.dates.birth
        if birth is None:
            return []
        problems = []
        # without a screening date, the earliest it can be: the latest of the dates that come
        # before it (a birth date of 1900 beside a consent of 2025 was read as an age of 125)
        screening = self.dates.screening or self.latest_before_screening()
        # completed years never exceed the difference of the years: only then are they
        # counted (dateutil's count takes microseconds, and every record passes here)
        if (
            screening is not None
            and screening.year - birth.year > MAXIMUM_PLAUSIBLE_AGE
            and age_in_years(birth, screening) > MAXIMUM_PLAUSIBLE_AGE
        ):
            age = age_in_years(birth, screening)
            when = (
                f"{age} years old at screening"
                if self.dates.screening is not None
                else f"at least {age} years old at screening (on or after {screening}, the "
                "latest date recorded before it)"
            )
            problems.append(
                f"dates.birth = {birth}: {when} is implausible; expected an age of at most "
                f"{MAXIMUM_PLAUSIBLE_AGE}: check the birth date"
            )
        problems += [
            f"{path} = {value} is before dates.birth = {birth}; expected a date on or after "
            "the birth"
            for path, value in before_birth
            if path not in _CHECKED_ON_THEIR_OWN
        ]
        return problems

    def latest_before_screening(self) -> datetime.date | None:
        """The latest of the dates that come on or before screening (consent, the first
        manifestation, the pregnancy test, attestations, malignancies), or None."""
        dates = [self.dates.consent, self.ssc.first_non_raynaud_manifestation]
        if self.pregnancy_test is not None:
            dates.append(self.pregnancy_test.date)
        dates += [a.date for a in self.attestations.recorded().values()]
        dates += [m.date for m in self.history.malignancies or []]
        return max(filter(None, dates), default=None)

    def _dates_not_after_screening(
        self, after_screening: list[tuple[str, datetime.date]]
    ) -> list[str]:
        """Tests, attestations and history happened by the screening visit (none is a plan):
        each of ``after_screening`` is named, but the consent and the first manifestation
        (named by their own checks)."""
        return [
            f"{path} = {value} is after dates.screening = {self.dates.screening}; expected a "
            "date on or before the screening visit"
            for path, value in after_screening
            if path not in _CHECKED_ON_THEIR_OWN
        ]

    def _dated_by_screening(self) -> list[tuple[str, datetime.date | None]]:
        """The tests, attestations and history that happen by the screening visit."""
        dated: list[tuple[str, datetime.date | None]] = [
            ("pregnancy_test.date", self.pregnancy_test.date if self.pregnancy_test else None)
        ]
        dated += [
            (f"attestations.{name}.date", attestation.date)
            for name, attestation in self.attestations.recorded().items()
        ]
        dated += [
            (f"history.malignancies[{index}].date", malignancy.date)
            for index, malignancy in enumerate(self.history.malignancies or [])
        ]
        return dated


#: Dates whose order with the birth and the screening is checked on its own (the visits in
#: order, the first manifestation between the birth and the screening)
_CHECKED_ON_THEIR_OWN = frozenset(
    {
        "dates.consent",
        "dates.screening",
        "dates.planned_randomization",
        "ssc.first_non_raynaud_manifestation",
    }
)


def parse_record(data: Any, source: str, node: Any = None) -> ParticipantRecord:
    # the participant code is refused by the record's own check, in its own words
    return validate_document(
        ParticipantRecord, data, source, node, own_checks=frozenset({"participant"})
    )


def load_record(path: Path | str) -> ParticipantRecord:
    """Read and validate a participant record (YAML or JSON)."""
    path = Path(path)
    data, node = read_yaml(path)
    return parse_record(data, str(path), node)


def json_schema() -> dict[str, Any]:
    """The record's JSON Schema (what `trialbook schema` prints)."""
    schema = ParticipantRecord.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "NCT06375005 participant screening record"
    return schema
