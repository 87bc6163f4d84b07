"""The protocol as a CDISC USDM v4 study (JSON), built with usdm4 and checked by its own rules.

The study, its version and identifiers, the interventional design with both arms, the epochs
(the book's assumed screening, treatment and follow-up, marked as assumptions), the study cells
and elements, all 37 criteria, both interventions with their administrations and products, the
population, and the primary objective with its endpoint. Every code is looked up in the CDISC
controlled terminology that ships inside usdm4 (offline), for the class and attribute the rules
bind it to: an unknown code fails loudly, never writes a guess.

The model classes are built directly: usdm4's builder catches every error and returns None.
Identifiers are UUID version 5 of the registry number and the object's path; nothing carries a
date of writing.

Checked by (each catches what the others miss):

1. usdm4's own rules (``USDM4().validate``: 213 local rules; every failure counts, warnings
   included, and a rule set that loaded fewer rules, as when lxml is missing, fails);
2. the USDM v4 JSON schema shipped in usdm4 (the ``Wrapper-Input`` definition);
3. two checks no usdm4 0.29.0 rule makes: every ``...Id``/``...Ids`` names an object of the
   file, and every bound code is a term (code and decode) of its codelist.
"""

from __future__ import annotations

import functools
import html
import itertools
import json
import pathlib
import tempfile
import warnings
from collections.abc import Iterator
from typing import Any

from exports.common import (
    INTERVENTION_MODELS,
    MASKINGS,
    PHASES,
    PURPOSES,
    STUDY_TYPES,
    Export,
    ExportError,
    Finding,
    arm_code,
    cdisc_term,
    json_bytes,
    stable_id,
    study_or_default,
)
from protocol.study import Study

EXPECTED_RULES = 213  # usdm4 0.29.0's rules; fewer loaded means a missing dependency
# the presentations' forms in study.yaml, as CDISC dosage forms (codelist C66726)
DOSE_FORMS = {
    "lyophilised powder for injection, single-use vial": (
        "INJECTION, POWDER, LYOPHILIZED, FOR SOLUTION"
    ),
    "film-coated tablet": "TABLET, FILM COATED",
    "capsule": "CAPSULE",
}
ARM_TYPES = {"EXPERIMENTAL": "C174266", "ACTIVE_COMPARATOR": "C174267"}
ROLES = {"investigational": "C41161", "background": "C165822"}
UNITS = {"mg": "C28253", "g": "C48155", "µg": "C48152"}  # CDISC unit codelist C71620


class UsdmBuildError(ExportError):
    """A fact the USDM model or its terminology cannot take."""


@functools.cache
def _countries() -> Any:
    """usdm4's own ISO 3166 table (the codes its validators know), loaded once."""
    import usdm4
    from usdm4.ct.iso.iso3166.library import Library as Iso3166

    table = Iso3166(str(pathlib.Path(usdm4.__file__).parent))
    table.load()
    return table


def _sites(b: Any, study: Study) -> list[Any]:
    """The study's sites (the registry's locations), each with its country's ISO 3166 code:
    managed by the sponsor, as the registry lists them under the study."""
    from usdm4.api.code import Code
    from usdm4.api.study_site import StudySite

    sites = []
    for k, site in enumerate(study.sites.value if study.sites else []):
        code, name = _countries().code_or_decode(site.country)
        if code is None:
            raise UsdmBuildError(
                f"sites[{k}].country: {site.country!r} is not a country ISO 3166 names"
            )
        country = Code(
            id=b.id("site", str(k), "country"),
            code=code,
            codeSystem=_countries().system,
            codeSystemVersion=_countries().version,
            decode=name,
        )
        sites.append(
            StudySite(
                id=b.id("site", str(k)),
                name=site.name,
                label=f"{site.name}, {site.city}",
                country=country,
            )
        )
    return sites


@functools.cache
def _terminology() -> Any:
    import usdm4
    from usdm4.ct.cdisc.library import Library

    library = Library(pathlib.Path(usdm4.__file__).parent)
    library.load()  # the cache inside the package: no network
    return library


class _Builder:
    def __init__(self, study: Study) -> None:
        self.study = study
        self.paths: set[str] = set()

    def id(self, *path: str) -> str:
        key = "/".join(path)
        if key in self.paths:
            raise UsdmBuildError(f"two objects at {key!r}")
        self.paths.add(key)
        return stable_id(self.study, "usdm", *path)

    def code(
        self, path: tuple[str, ...], codelist: dict[str, Any], concept: str, decode: str = ""
    ) -> Any:
        from usdm4.api.code import Code

        terms = [t for t in codelist["terms"] if t["conceptId"] == concept]
        if not terms:
            raise UsdmBuildError(f"{concept} is not a term of codelist {codelist['conceptId']}")
        return Code(
            id=self.id(*path),
            code=concept,
            codeSystem=_terminology().system,
            codeSystemVersion=codelist["source"]["effective_date"],
            decode=terms[0][decode or "preferredTerm"],
        )

    def bound(self, path: tuple[str, ...], klass: str, attribute: str, concept: str) -> Any:
        """A code from the codelist the rules bind to ``klass.attribute``."""
        codelist = _terminology().klass_and_attribute(klass, attribute)
        if codelist is None:
            raise UsdmBuildError(f"no codelist is bound to {klass}.{attribute}")
        return self.code(path, codelist, concept)

    def listed(self, path: tuple[str, ...], codelist: str, concept: str, decode: str = "") -> Any:
        return self.code(path, _terminology()._by_code_list[codelist], concept, decode)

    def by_value(self, path: tuple[str, ...], codelist: str, submission_value: str) -> Any:
        terms = _terminology()._by_code_list[codelist]["terms"]
        found = [t["conceptId"] for t in terms if t["submissionValue"] == submission_value]
        if not found:
            raise UsdmBuildError(f"{submission_value!r} is not a term of codelist {codelist}")
        return self.listed(path, codelist, found[0])

    def alias(self, path: tuple[str, ...], standard: Any) -> Any:
        from usdm4.api.alias_code import AliasCode

        return AliasCode(id=self.id(*path), standardCode=standard, standardCodeAliases=[])

    def quantity(self, path: tuple[str, ...], value: float, codelist: str, unit: str) -> Any:
        from usdm4.api.quantity_range import Quantity

        return Quantity(
            id=self.id(*path),
            value=value,
            unit=self.alias((*path, "unit"), self.listed((*path, "unit", "code"), codelist, unit)),
        )


def cdisc_sexes(sex: str) -> list[str]:
    """The registry's sex as USDM's planned sexes (its rules take female and male, not both)."""
    planned = {"ALL": ["C16576", "C20197"], "FEMALE": ["C16576"], "MALE": ["C20197"]}
    if sex not in planned:
        raise UsdmBuildError(f"population.sex {sex!r}; expected one of {', '.join(planned)}")
    return planned[sex]


def xhtml(text: str) -> str:
    """USDM text is an XHTML fragment: ``<``, ``>`` and ``&`` escaped."""
    return f"<p>{html.escape(text, quote=False)}</p>"


def _days(days: int) -> str:
    """A number of days in words: ``3 days``, ``1 day``."""
    return f"{days} day{'' if days == 1 else 's'}"


def _link(items: list[Any]) -> None:
    for index, item in enumerate(items):
        item.previousId = items[index - 1].id if index > 0 else None
        item.nextId = items[index + 1].id if index + 1 < len(items) else None


def build(study: Study | None = None) -> Any:
    """The USDM ``Wrapper`` (usdm4's model), built from study.yaml."""
    from usdm4.__info__ import __model_version__, __package_version__
    from usdm4.api.activity import Activity
    from usdm4.api.administrable_product import AdministrableProduct
    from usdm4.api.administration import Administration
    from usdm4.api.duration import Duration
    from usdm4.api.eligibility_criterion import EligibilityCriterion, EligibilityCriterionItem
    from usdm4.api.encounter import Encounter
    from usdm4.api.endpoint import Endpoint
    from usdm4.api.identifier import StudyIdentifier
    from usdm4.api.indication import Indication
    from usdm4.api.objective import Objective
    from usdm4.api.organization import Organization
    from usdm4.api.population_definition import StudyDesignPopulation
    from usdm4.api.procedure import Procedure
    from usdm4.api.quantity_range import Quantity, Range
    from usdm4.api.schedule_timeline import ScheduleTimeline
    from usdm4.api.schedule_timeline_exit import ScheduleTimelineExit
    from usdm4.api.scheduled_instance import ScheduledActivityInstance
    from usdm4.api.study import Study as UsdmStudy
    from usdm4.api.study_arm import StudyArm
    from usdm4.api.study_cell import StudyCell
    from usdm4.api.study_design import InterventionalStudyDesign
    from usdm4.api.study_element import StudyElement
    from usdm4.api.study_epoch import StudyEpoch
    from usdm4.api.study_intervention import StudyIntervention
    from usdm4.api.study_role import StudyRole
    from usdm4.api.study_title import StudyTitle
    from usdm4.api.study_version import StudyVersion
    from usdm4.api.timing import Timing
    from usdm4.api.wrapper import Wrapper

    study = study_or_default(study)
    if study.trial_design is None:
        raise UsdmBuildError("study.yaml has no trial_design section; the export needs it")
    b = _Builder(study)
    design_facts = study.trial_design
    nct = study.identification.nct_id.value
    version_path = ("version",)
    design_path = ("design",)
    version_id = b.id(*version_path)

    registry = Organization(
        id=b.id("organization", "registry"),
        name="ClinicalTrials.gov",
        label="ClinicalTrials.gov",
        type=b.bound(("organization", "registry", "type"), "Organization", "type", "C93453"),
        identifierScheme="USGOV",
        identifier="CT-GOV",
    )
    sponsor_name = study.identification.sponsor.value
    sponsor = Organization(
        id=b.id("organization", "sponsor"),
        name=sponsor_name,
        label=sponsor_name,
        type=b.bound(
            ("organization", "sponsor", "type"),
            "Organization",
            "type",
            design_facts.sponsor_type.value.code,
        ),
        identifierScheme="ClinicalTrials.gov lead sponsor",
        identifier=sponsor_name,
        managedSites=_sites(b, study),
    )
    identifiers = [
        StudyIdentifier(
            id=b.id("identifier", "sponsor"),
            text=study.identification.org_study_id.value,
            scopeId=sponsor.id,
        ),
        StudyIdentifier(id=b.id("identifier", "registry"), text=nct, scopeId=registry.id),
    ]
    titles = [
        StudyTitle(
            id=b.id("title", "brief"),
            text=study.identification.brief_title.value,
            type=b.bound(("title", "brief", "type"), "StudyTitle", "type", "C207615"),
        )
    ]
    if study.identification.official_title is not None:
        titles.append(
            StudyTitle(
                id=b.id("title", "official"),
                text=study.identification.official_title.value,
                type=b.bound(("title", "official", "type"), "StudyTitle", "type", "C207616"),
            )
        )

    # -- products, interventions, administrations
    products: dict[str, Any] = {}
    for presentation in study.presentations:
        if presentation.intervention in products:
            continue  # one product per intervention: the first presentation
        if presentation.form not in DOSE_FORMS:
            raise UsdmBuildError(f"presentation form {presentation.form!r} has no CDISC dose form")
        path = ("product", presentation.intervention)
        intervention = next(i for i in study.interventions if i.id == presentation.intervention)
        products[presentation.intervention] = AdministrableProduct(
            id=b.id(*path),
            name=f"{intervention.name.value} {presentation.strength.value:~}",
            label=f"{intervention.name.value}, {presentation.form}",
            administrableDoseForm=b.alias(
                (*path, "form"),
                b.by_value((*path, "form", "code"), "C66726", DOSE_FORMS[presentation.form]),
            ),
            productDesignation=b.bound(
                (*path, "designation"),
                "AdministrableProduct",
                "productDesignation",
                "C202579" if intervention.role == "investigational" else "C156473",
            ),
        )
    interventions = []
    for intervention in study.interventions:
        path = ("intervention", intervention.id)
        dose = intervention.dose.value
        unit = f"{dose.units:~}"
        if unit not in UNITS:
            raise UsdmBuildError(f"interventions.{intervention.id}.dose: unit {unit!r}")
        route = intervention.route_cdisc.value if intervention.route_cdisc else None
        frequency = intervention.frequency_cdisc.value if intervention.frequency_cdisc else None
        if route is None or frequency is None or intervention.id not in products:
            raise UsdmBuildError(f"interventions.{intervention.id}: route, frequency or product")
        weeks = intervention.duration.value.to("week").magnitude
        administration = Administration(
            id=b.id(*path, "administration"),
            name=f"{intervention.name.value} {dose:~} {frequency.submission_value}",
            label=intervention.frequency_label or frequency.submission_value,
            duration=Duration(
                id=b.id(*path, "administration", "duration"),
                text=f"{weeks:g} weeks",
                durationWillVary=False,
                quantity=b.quantity(
                    (*path, "administration", "duration", "weeks"), weeks, "C66781", "C29844"
                ),
            ),
            dose=b.quantity(
                (*path, "administration", "dose"), float(dose.magnitude), "C71620", UNITS[unit]
            ),
            route=b.alias(
                (*path, "administration", "route"),
                b.bound(
                    (*path, "administration", "route", "code"),
                    "Administration",
                    "route",
                    route.code,
                ),
            ),
            frequency=b.alias(
                (*path, "administration", "frequency"),
                b.bound(
                    (*path, "administration", "frequency", "code"),
                    "Administration",
                    "frequency",
                    frequency.code,
                ),
            ),
            administrableProductId=products[intervention.id].id,
        )
        interventions.append(
            StudyIntervention(
                id=b.id(*path),
                name=intervention.name.value,
                label=intervention.name.value,
                description=intervention.description.value,
                role=b.bound(
                    (*path, "role"), "StudyIntervention", "role", ROLES[intervention.role]
                ),
                type=b.bound((*path, "type"), "StudyIntervention", "type", "C1909"),
                administrations=[administration],
            )
        )
    by_intervention = {i.id: u for i, u in zip(study.interventions, interventions, strict=True)}

    # -- arms, epochs, elements, cells
    arms = []
    for arm in study.arms:
        if arm.type.value not in ARM_TYPES:
            raise UsdmBuildError(f"arms.{arm.id}.type {arm.type.value!r}")
        arms.append(
            StudyArm(
                id=b.id(*design_path, "arm", arm.id),
                name=arm_code(study, arm.id),
                label=arm.label.value,
                description=arm.description.value,
                type=b.bound(
                    (*design_path, "arm", arm.id, "type"),
                    "StudyArm",
                    "type",
                    ARM_TYPES[arm.type.value],
                ),
                dataOriginDescription="Data collected in this trial",
                dataOriginType=b.bound(
                    (*design_path, "arm", arm.id, "origin"), "StudyArm", "dataOriginType", "C188866"
                ),
            )
        )
    epochs = [
        StudyEpoch(
            id=b.id(*design_path, "epoch", epoch.id),
            name=epoch.cdisc.submission_value,
            label=epoch.label,
            description=f"{epoch.label} (an assumption of the book: the record publishes no "
            f"epochs; {epoch.duration:~} planned)",
            type=b.bound(
                (*design_path, "epoch", epoch.id, "type"), "StudyEpoch", "type", epoch.cdisc.code
            ),
        )
        for epoch in design_facts.epochs.value
    ]
    _link(epochs)
    elements: dict[str, Any] = {}
    for epoch in design_facts.epochs.value:
        if epoch.element:
            elements[epoch.element] = StudyElement(
                id=b.id(*design_path, "element", epoch.element),
                name=epoch.element,
                label=epoch.label,
                studyInterventionIds=[],
            )
    for arm in study.arms:
        code = arm_code(study, arm.id)
        names = " ".join(arm.intervention_names.value)
        elements[code] = StudyElement(
            id=b.id(*design_path, "element", code),
            name=code,
            label=arm.label.value,
            studyInterventionIds=[
                by_intervention[i.id].id for i in study.interventions if i.name.value in names
            ],
        )
    cells = [
        StudyCell(
            id=b.id(*design_path, "cell", arm.id, epoch.id),
            armId=usdm_arm.id,
            epochId=usdm_epoch.id,
            elementIds=[elements[epoch.element or arm_code(study, arm.id)].id],
        )
        for arm, usdm_arm in zip(study.arms, arms, strict=True)
        for epoch, usdm_epoch in zip(design_facts.epochs.value, epochs, strict=True)
    ]

    # -- eligibility: the items on the version, the criteria in the design
    items, criteria = [], []
    for category, concept in (("inclusion", "C25532"), ("exclusion", "C25370")):
        chain = []
        for criterion in (c for c in study.criteria if c.category == category):
            path = ("criterion", criterion.id)
            item = EligibilityCriterionItem(
                id=b.id(*path, "item"),
                name=criterion.id,
                label=criterion.short_name,
                text=xhtml(criterion.text),
            )
            items.append(item)
            chain.append(
                EligibilityCriterion(
                    id=b.id(*path),
                    name=criterion.id,
                    label=criterion.short_name,
                    identifier=criterion.id,
                    category=b.bound(
                        (*path, "category"), "EligibilityCriterion", "category", concept
                    ),
                    criterionItemId=item.id,
                )
            )
        _link(chain)
        criteria += chain

    population = study.population
    ages = ("population", "age")
    usdm_population = StudyDesignPopulation(
        id=b.id("population"),
        name="POPULATION",
        label=population.condition.value,
        includesHealthySubjects=population.healthy_volunteers.value,
        plannedEnrollmentNumber=Quantity(
            id=b.id("population", "enrollment"), value=study.design.enrollment.value
        ),
        plannedAge=Range(
            id=b.id(*ages),
            minValue=b.quantity(
                (*ages, "minimum"),
                population.minimum_age.value.to("year").magnitude,
                "C66781",
                "C29848",
            ),
            maxValue=b.quantity(
                (*ages, "maximum"),
                population.maximum_age.value.to("year").magnitude,
                "C66781",
                "C29848",
            ),
            isApproximate=False,
        ),
        plannedSex=[
            b.bound(("population", "sex", concept), "StudyDesignPopulation", "plannedSex", concept)
            for concept in cdisc_sexes(population.sex.value)
        ],
        criterionIds=[c.id for c in criteria],
    )

    outcome = study.primary_outcome.value
    objective = Objective(
        id=b.id("objective", "primary"),
        name="PRIMARY",
        label="Primary objective",
        text=xhtml(design_facts.primary_objective.value),
        level=b.bound(("objective", "primary", "level"), "Objective", "level", "C85826"),
        endpoints=[
            Endpoint(
                id=b.id("objective", "primary", "endpoint"),
                name="PRIMARY-ENDPOINT",
                label="Primary endpoint",
                text=xhtml(f"{outcome.measure} (time frame: {outcome.time_frame})"),
                purpose="Efficacy",
                level=b.bound(
                    ("objective", "primary", "endpoint", "level"), "Endpoint", "level", "C94496"
                ),
            )
        ],
    )

    # -- the schedule: an encounter per visit of the book's assumed schedule (PI18, as SDTM's
    # TV gives it), each visit an instance of the main timeline in its epoch, with the
    # visit's activities and its window; day 1 (randomization) the anchor
    timeline_path = (*design_path, "timeline")
    dosing = Activity(
        id=b.id(*design_path, "activity", "dosing"),
        name="DOSING",
        label="Study intervention administration",
        definedProcedures=[
            Procedure(
                id=b.id(*design_path, "activity", "dosing", intervention.id),
                name=f"ADMINISTER-{intervention.id.upper()}",
                label=f"Administer {intervention.name.value}",
                procedureType="Study intervention administration",
                studyInterventionId=by_intervention[intervention.id].id,
                # no codelist is bound to a procedure's code: the route says how it is given
                code=b.bound(
                    (*design_path, "activity", "dosing", intervention.id, "code"),
                    "Administration",
                    "route",
                    intervention.route_cdisc.value.code,
                ),
            )
            for intervention in study.interventions
            if intervention.route_cdisc is not None
        ],
    )
    visits = study.visit_schedule.value
    encounters = [
        Encounter(
            id=b.id(*design_path, "encounter", visit.id),
            name=visit.id.upper().replace("_", "-"),
            label=visit.label,
            # the visit's activities in words: an Activity needs a procedure's code, which
            # neither the record nor the book's assumed schedule gives (usdm4's DDF00075)
            description="Activities: "
            + "; ".join(study.activity_labels[a] for a in visit.activities),
            type=b.bound(
                (*design_path, "encounter", visit.id, "type"), "Encounter", "type", "C25716"
            ),
        )
        for visit in visits
    ]
    _link(encounters)
    epoch_days = [
        (next(v.day for v in visits if v.id == e.first_visit), usdm_epoch)
        for e, usdm_epoch in zip(design_facts.epochs.value, epochs, strict=True)
    ]

    def epoch_of(visit: Any) -> Any:
        """The epoch a visit falls in: the last whose first visit is on or before its day."""
        within = [epoch for first, epoch in epoch_days if first <= visit.day]
        if not within:
            raise UsdmBuildError(
                f"visit {visit.id!r} (day {visit.day}) is before the first epoch's first visit; "
                "expected every visit in an epoch"
            )
        return within[-1]

    anchor_day = 1  # randomization is day 1 (the visit schedule counts from it)
    exit_ = ScheduleTimelineExit(id=b.id(*timeline_path, "exit"))
    instances = [
        ScheduledActivityInstance(
            id=b.id(*timeline_path, "instance", visit.id),
            name=visit.id.upper().replace("_", "-"),
            label=visit.label,
            epochId=epoch_of(visit).id,
            encounterId=encounter.id,
            activityIds=[dosing.id] if visit.day == anchor_day else [],
        )
        for visit, encounter in zip(visits, encounters, strict=True)
    ]
    for instance, following in itertools.pairwise(instances):
        instance.defaultConditionId = following.id
    instances[-1].timelineExitId = exit_.id
    anchor = next((i for i, v in zip(instances, visits, strict=True) if v.day == anchor_day), None)
    if anchor is None:
        raise UsdmBuildError(
            "no visit on day 1 (randomization), which the timeline's timings count from; "
            "expected a visit with day: 1"
        )

    def timing(instance: Any, visit: Any) -> Any:
        day = visit.day
        # there is no day 0: day -28 is 28 days before day 1, day 29 is 28 days after it
        kind, value = (
            ("C201358", "P0D")
            if instance is anchor
            else ("C201357", f"P{abs(day)}D")
            if day < 1
            else ("C201356", f"P{day - 1}D")
        )
        window = bool(visit.before or visit.after)  # P0D, P0W alike: no window
        return Timing(
            id=b.id(*timeline_path, "timing", visit.id),
            name=f"TIMING-{visit.id.upper().replace('_', '-')}",
            label=f"Day {day}",
            type=b.code(
                (*timeline_path, "timing", visit.id, "type"),
                _terminology().klass_and_attribute("Timing", "type"),
                kind,
                "submissionValue",
            ),
            value=value,
            valueLabel=f"Day {day}",
            relativeToFrom=b.bound(
                (*timeline_path, "timing", visit.id, "relative"),
                "Timing",
                "relativeToFrom",
                "C201355",
            ),
            relativeFromScheduledInstanceId=instance.id,
            relativeToScheduledInstanceId=anchor.id,
            windowLower=visit.window_before if window else None,
            windowUpper=visit.window_after if window else None,
            windowLabel=(
                f"{_days(visit.before.days)} before to {_days(visit.after.days)} after"
                if window
                else None
            ),
        )

    timings = [timing(i, v) for i, v in zip(instances, visits, strict=True)]
    for encounter, found in zip(encounters, timings, strict=True):
        encounter.scheduledAtId = found.id  # each visit is scheduled by its own timing
    total_weeks = sum(e.duration.to("week").magnitude for e in design_facts.epochs.value)
    timeline = ScheduleTimeline(
        id=b.id(*timeline_path),
        name="MAIN",
        label="Main timeline (the book's assumed visit schedule, PI18)",
        mainTimeline=True,
        entryCondition="Signed informed consent",
        entryId=instances[0].id,
        exits=[exit_],
        instances=instances,
        timings=timings,
        plannedDuration=Duration(
            id=b.id(*timeline_path, "duration"),
            text=f"{total_weeks:g} weeks",
            durationWillVary=False,
            quantity=b.quantity(
                (*timeline_path, "duration", "weeks"), total_weeks, "C66781", "C29844"
            ),
        ),
    )

    characteristics = []
    if study.design.allocation.value == "RANDOMIZED":
        characteristics.append(
            b.bound(
                (*design_path, "randomized"),
                "InterventionalStudyDesign",
                "characteristics",
                "C46079",
            )
        )
    # the registry's design values, each as its CDISC term (refused by name when it has none)
    kind = cdisc_term(STUDY_TYPES, study.design.study_type.value, "design.study_type")
    if kind[0] != "INTERVENTIONAL":
        raise UsdmBuildError(
            f"design.study_type {study.design.study_type.value!r}; the export builds an "
            f"interventional design only"
        )
    phase = cdisc_term(PHASES, study.design.phase.value, "design.phase")
    model = cdisc_term(
        INTERVENTION_MODELS, study.design.intervention_model.value, "design.intervention_model"
    )
    blinding = cdisc_term(MASKINGS, study.design.masking.value, "design.masking")
    intent = cdisc_term(PURPOSES, study.design.primary_purpose.value, "design.primary_purpose")
    design = InterventionalStudyDesign(
        id=b.id(*design_path),
        name="MAIN-DESIGN",
        label="Main design",
        description=study.design.description.value,
        rationale=design_facts.primary_objective.value,
        studyType=b.bound(
            (*design_path, "type"), "InterventionalStudyDesign", "studyType", kind[1]
        ),
        studyPhase=b.alias(
            (*design_path, "phase"),
            b.bound(
                (*design_path, "phase", "code"),
                "InterventionalStudyDesign",
                "studyPhase",
                phase[1],
            ),
        ),
        model=b.bound((*design_path, "model"), "InterventionalStudyDesign", "model", model[1]),
        blindingSchema=b.alias(
            (*design_path, "blinding"),
            b.bound(
                (*design_path, "blinding", "code"),
                "InterventionalStudyDesign",
                "blindingSchema",
                blinding[1],
            ),
        ),
        characteristics=characteristics,
        intentTypes=[
            b.bound((*design_path, "intent"), "InterventionalStudyDesign", "intentTypes", intent[1])
        ],
        # the trial types SDTM's TTYPE gives (efficacy, safety), from the same fact
        subTypes=[
            b.bound(
                (*design_path, "subtype", term.submission_value.lower()),
                "InterventionalStudyDesign",
                "subTypes",
                term.code,
            )
            for term in design_facts.trial_types.value
        ],
        # the record's condition as text: the record gives it no code, and none is made up
        indications=[
            Indication(
                id=b.id(*design_path, "indication"),
                name="INDICATION-1",
                label=study.population.condition.value,
                description=study.population.condition.value,
                isRareDisease=design_facts.rare_disease.value,
            )
        ]
        if design_facts.rare_disease is not None
        else [],
        arms=arms,
        epochs=epochs,
        elements=list(elements.values()),
        studyCells=cells,
        studyInterventionIds=[i.id for i in interventions],
        population=usdm_population,
        eligibilityCriteria=criteria,
        objectives=[objective],
        activities=[dosing],
        encounters=encounters,
        scheduleTimelines=[timeline],
    )
    sponsor_role = StudyRole(
        id=b.id("role", "sponsor"),
        name="SPONSOR",
        label="Sponsor",
        code=b.bound(("role", "sponsor", "code"), "StudyRole", "code", "C70793"),
        organizationIds=[sponsor.id],
        appliesToIds=[version_id],
    )
    label = study.protocol_version.label if study.protocol_version else "unversioned"
    version = StudyVersion(
        id=version_id,
        versionIdentifier=label,
        rationale="The protocol as the registry record states it, with the book's assumptions",
        titles=titles,
        studyIdentifiers=identifiers,
        organizations=[sponsor, registry],
        roles=[sponsor_role],
        studyDesigns=[design],
        eligibilityCriterionItems=items,
        studyInterventions=interventions,
        administrableProducts=list(products.values()),
    )
    usdm_study = UsdmStudy(
        id=b.id("study"),
        name=nct,
        label=study.identification.brief_title.value,
        description=(study.identification.brief_summary or study.design.description).value,
        versions=[version],
    )
    return Wrapper(
        study=usdm_study,
        usdmVersion=__model_version__,
        systemName="trialbook",
        systemVersion=f"usdm4-{__package_version__}",
    )


def document(study: Study | None = None) -> dict[str, Any]:
    return build(study).model_dump(mode="json")


# -- the validators -----------------------------------------------------------------------------


def validate_rules(data: dict[str, Any]) -> list[Finding]:
    """usdm4's own rules, every one: a failure or an exception is a finding, warnings too."""
    from simple_error_log.errors import Errors

    with warnings.catch_warnings():  # usdm4 imports jsonschema's deprecated RefResolver
        warnings.simplefilter("ignore", DeprecationWarning)
        from usdm4 import USDM4
        from usdm4.rules.results import RuleStatus

        usdm = USDM4()
    name = "usdm4 rules"
    findings = []
    loaded = len(usdm.validator.rules_validation.rules)
    if loaded != EXPECTED_RULES:
        findings.append(
            Finding(name, "setup", f"{loaded} of {EXPECTED_RULES} rules loaded (missing lxml?)")
        )
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "usdm.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            results = usdm.validate(str(path))
    for outcome in results.by_status(RuleStatus.EXCEPTION):
        first = (outcome.exception or "").splitlines()[:1]
        findings.append(Finding(name, outcome.rule_id, f"exception: {first[0] if first else ''}"))
    for outcome in results.by_status(RuleStatus.FAILURE):
        for row in outcome.errors.to_dict(level=Errors.DEBUG)[:5]:
            location = row.get("location") or {}
            where = f"{outcome.rule_id} {location.get('klass', '')}.{location.get('attribute', '')}"
            findings.append(Finding(name, where, f"{row['level']}: {row['message'][:300]}"))
    return findings


def validate_schema(data: dict[str, Any]) -> list[Finding]:
    """The USDM v4 schema inside usdm4 (an OpenAPI document; the ``Wrapper-Input`` schema)."""
    import usdm4
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    schema_path = pathlib.Path(usdm4.__file__).parent / "rules/library/schema/usdm_v4-0-0.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    registry = Registry().with_resource("urn:usdm-v4", DRAFT202012.create_resource(schema))
    validator = Draft202012Validator(
        {"$ref": "urn:usdm-v4#/components/schemas/Wrapper-Input"}, registry=registry
    )
    return [
        Finding("USDM v4 JSON schema", error.json_path, error.message[:300])
        for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path)))
    ]


def _walk(node: Any, path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


def validate_references(data: dict[str, Any]) -> list[Finding]:
    """Every ``...Id`` and ``...Ids`` names an object of the file (no usdm4 rule checks it)."""
    ids = {node["id"] for _, node in _walk(data) if isinstance(node.get("id"), str)}
    findings = []
    for path, node in _walk(data):
        for key, value in node.items():
            targets = [value] if key.endswith("Id") else value if key.endswith("Ids") else []
            for target in targets if isinstance(targets, list) else []:
                if isinstance(target, str) and target not in ids:
                    findings.append(Finding("USDM references", f"{path}.{key}", f"no {target}"))
    return findings


def validate_codes(data: dict[str, Any]) -> list[Finding]:
    """Every code bound to a class's attribute is a term of its codelist, code and decode."""
    from usdm4.ct.cdisc.library import Library

    library = _terminology()
    bindings = library._config._by_klass_attribute
    findings = []
    for path, node in _walk(data):
        for attribute, codelist in (bindings.get(node.get("instanceType")) or {}).items():
            values = node.get(attribute)
            for value in values if isinstance(values, list) else [values]:
                if not isinstance(value, dict):
                    continue
                code = value.get("standardCode", value)
                terms = library._by_code_list[codelist]["terms"]
                by_code, _ = Library.find_in_terms(terms, code.get("code"), by="concept_id")
                by_decode, _ = Library.find_in_terms(terms, code.get("decode"), by="any")
                if by_code is None or by_decode is None or by_code is not by_decode:
                    findings.append(
                        Finding(
                            "USDM terminology",
                            f"{path}.{attribute}",
                            f"{code.get('code')} {code.get('decode')!r} is not a term of "
                            f"{codelist}",
                        )
                    )
    return findings


def validate(data: dict[str, Any]) -> list[Finding]:
    return (
        validate_rules(data)
        + validate_schema(data)
        + validate_references(data)
        + validate_codes(data)
    )


def export(study: Study | None = None) -> Export:
    data = document(study)
    return Export(
        "CDISC USDM v4",
        {"usdm/study.json": json_bytes(data)},
        ["usdm4 0.29.0: its 213 rules", "USDM v4 JSON schema", "every reference and code"],
        validate(data),
        contents=(
            "The study, its version and identifiers; the design with both arms, the three epochs "
            f"and the {len(study_or_default(study).visit_schedule.value)} visits with their "
            "windows and activities (the book's assumptions), its "
            "cells and elements; the condition; all 37 criteria; both medicines with their "
            "doses, routes, frequencies and products; the population; the primary objective and "
            "endpoint."
        ),
    )
