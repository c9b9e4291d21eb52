"""Import the FHIR ValueSets a program's questionnaires draw their answers from (answerValueSet), and
find them again. Sojourn has no terminology server: a value set is imported with its expansion or the
concepts it lists, by the rules a contained one follows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.questionnaires.definition import read_value_set
from sojourn.questionnaires.models import ValueSet


def _digest(resource: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(resource, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def import_value_set(*, actor: Actor, program: Program, resource: str | bytes | dict[str, Any]) -> ValueSet:
    """Import a ValueSet into the program; the same url, version and content again changes nothing."""
    actor.require(Permission.CONTENT_EDIT, program.pk)
    data = read_value_set(resource)
    with transaction.atomic(durable=True):
        return store_value_set(actor=actor, program=program, data=data)


@transaction.atomic(savepoint=False)
def store_value_set(*, actor: Actor, program: Program, data: dict[str, Any]) -> ValueSet:
    """Write a validated ValueSet (read_value_set) inside the caller's transaction, or find it written."""
    url, version, digest = str(data["url"]), str(data.get("version", "") or ""), _digest(data)
    found = ValueSet.objects.select_for_update().filter(program=program, url=url, version=version).first()
    if found is not None:
        if found.sha256 != digest:
            raise InvalidInput(_("The value set %(url)s (version %(version)s) was imported already with other "
                                 "content: give the new content a new version.")
                               % {"url": url, "version": version or "—"}, field="version")
        return found
    value_set = ValueSet.objects.create(program=program, url=url, version=version, resource=data, sha256=digest,
                                        imported_by_id=actor.user_id)
    record_audit(actor=actor, action="value_set.imported", subject_type="value_set", subject_id=value_set.pk,
                 program_id=program.pk, after={"url": url, "version": version, "sha256": digest})
    return value_set


def index_value_sets(rows: Iterable[ValueSet]) -> dict[str, ValueSet]:
    """Value sets by url|version and by url alone, which names the latest imported.

    Rows not saved yet (a Bundle's, about to be) count as imported after every saved one, in their order:
    the same rule at import and when a pinned questionnaire is read again gives the same answer."""
    index: dict[str, ValueSet] = {}
    ordered = sorted(enumerate(rows), key=lambda pair: (pair[1].pk is None, pair[1].pk or 0, pair[0]))
    for _position, row in ordered:
        index[row.url] = row
        if row.version:
            index[f"{row.url}|{row.version}"] = row
    return index


def program_value_sets(program: Program, references: Iterable[str]) -> list[ValueSet]:
    """The program's imported value sets that these answerValueSet references may name."""
    urls = {reference.split("|", 1)[0] for reference in references}
    return list(ValueSet.objects.filter(program=program, url__in=urls)) if urls else []


def unsaved_value_set(program: Program, data: dict[str, Any]) -> ValueSet:
    """A validated ValueSet as the row it will be (to resolve a Bundle's questionnaire before writing)."""
    return ValueSet(program=program, url=str(data["url"]), version=str(data.get("version", "") or ""),
                    resource=data, sha256=_digest(data))
