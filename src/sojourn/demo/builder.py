"""Build the demo program through the same services the product uses; safe to run twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model

from sojourn.core.actors import Actor
from sojourn.core.models import Program, Sponsor
from sojourn.core.packs import read_pack_file, shipped_pack_paths
from sojourn.core.permissions import Role
from sojourn.core.services.markets import activate_market
from sojourn.core.services.programs import create_program, create_sponsor
from sojourn.people.identity import PatientIdentity, PostalAddress
from sojourn.people.models import Patient
from sojourn.people.services.patients import register_patient
from sojourn.people.services.staff import create_staff, grant_membership

DEMO_PASSWORD = "companion-demo-2026"
PROGRAM_SLUG = "psoriasis-companion"


@dataclass(frozen=True)
class DemoStaff:
    email: str
    name: str
    role: Role | None
    markets: tuple[str, ...] | None
    language: str
    time_zone: str


STAFF = (
    DemoStaff("admin@demo.sojourn.example", "Ada Admin", None, None, "en", "Europe/London"),
    DemoStaff("manager@demo.sojourn.example", "Mara Manager", Role.PROGRAM_MANAGER, None, "en", "Europe/Berlin"),
    DemoStaff("reviewer@demo.sojourn.example", "Rudi Reviewer", Role.CONTENT_REVIEWER, None, "de", "Europe/Berlin"),
    DemoStaff("nurse.de@demo.sojourn.example", "Nora Schwester", Role.NURSE, ("DE",), "de", "Europe/Berlin"),
    DemoStaff("nurse.jp@demo.sojourn.example", "Naoko Kango", Role.NURSE, ("JP",), "ja", "Asia/Tokyo"),
    DemoStaff("nurse.na@demo.sojourn.example", "Nia Nurse", Role.NURSE, ("US", "CA"), "en", "America/Toronto"),
    DemoStaff("analyst@demo.sojourn.example", "Ines Insights", Role.INSIGHTS_ANALYST, None, "en", "Europe/London"),
    DemoStaff("safety@demo.sojourn.example", "Sam Safety", Role.SAFETY_OFFICER, None, "en", "Europe/London"),
    DemoStaff("agency@demo.sojourn.example", "Alex Agency", Role.AGENCY_USER, None, "fr", "America/Toronto"),
)

PATIENTS = (
    ("DE", "de-DE", "Europe/Berlin", "Lena", "Hoffmann", "+49 30 901820", ("Torstraße 12",), "10119", "Berlin", ""),
    ("DE", "de-DE", "Europe/Berlin", "Jonas", "Weber", "+49 89 2180", ("Leopoldstraße 3",), "80802", "München", ""),
    ("US", "en-US", "America/Chicago", "Maya", "Johnson", "+1 312 555 0142", ("233 S Wacker Dr",), "60606",
     "Chicago", "IL"),
    ("GB", "en-GB", "Europe/London", "Oliver", "Davies", "+44 20 7946 0321", ("10 Downing Row",), "SW1A 2AA",
     "London", ""),
    ("JP", "ja-JP", "Asia/Tokyo", "陽菜", "佐藤", "+81 3-1234-5678", ("千代田区丸の内1-1",), "100-0005",
     "東京都", ""),
    ("CA", "en-CA", "America/Toronto", "Ethan", "Tremblay", "+1 416 555 0199", ("100 Queen St W",), "M5H 2N2",
     "Toronto", "ON"),
    ("CA", "fr-CA", "America/Toronto", "Chloé", "Gagnon", "+1 514 555 0123", ("275 rue Notre-Dame Est",),
     "H2Y 1C6", "Montréal", "QC"),
)


def build_demo(progress: Callable[[str], None] = lambda _msg: None) -> Program:
    actor = Actor.system("demo builder")
    sponsor = Sponsor.objects.filter(slug="demo-pharma").first() or create_sponsor(
        actor=actor, slug="demo-pharma", name="Demo Pharma")
    program = Program.objects.filter(slug=PROGRAM_SLUG).first() or create_program(
        actor=actor, sponsor=sponsor, slug=PROGRAM_SLUG, name="Psoriasis companion", indication="Plaque psoriasis")
    progress("markets")
    for path in shipped_pack_paths():
        activate_market(actor=actor, reading=read_pack_file(path), program=program)
    progress("staff")
    users = get_user_model().objects
    for member in STAFF:
        user = users.filter(username=member.email).first() or create_staff(
            actor=actor, email=member.email, display_name=member.name, password=DEMO_PASSWORD,
            language=member.language, time_zone=member.time_zone, is_platform_admin=member.role is None)
        if member.role is not None:
            grant_membership(actor=actor, user=user, program=program, role=member.role,
                             markets=list(member.markets) if member.markets else None)
    progress("patients")
    if not Patient.objects.filter(program=program).exists():
        for i, (country, locale, zone, given, family, phone, lines, postcode, city, region) in enumerate(PATIENTS):
            register_patient(
                actor=actor, program=program, market=country, locale=locale, time_zone=zone,
                identity=PatientIdentity(
                    given_name=given, family_name=family, email=f"patient{i + 1}@demo.sojourn.example",
                    phone=phone, birth_date=date(1970 + 3 * i, 1 + i, 10 + i),
                    postal_address=PostalAddress(lines=lines, postal_code=postcode, city=city, region=region,
                                                 country=country),
                ),
            )
    return program
