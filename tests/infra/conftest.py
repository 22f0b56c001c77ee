"""Synthesize each shipped profile's stack once per test session.

`standard` gets its own app (the `Dovecote` stack that `cdk synth` writes); the other
shipped profiles share a second app, one stack each, to pay jsii start-up and synthesis
once. The `mutx` stack is synthesized with deletion protection off.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

from aws_cdk import App  # imported after the jsii variables above are set
from aws_cdk.assertions import Template

from dovecote.profiles import shipped_profile_names
from functions.core.profile import Profile, load_profile
from infra.assembly import add_dovecote_stack, create_app
from infra.stack import STACK_NAME, DovecoteStack

DEFAULT_PROFILE = "standard"
UNPROTECTED_PROFILE = "mutx"


@dataclass(frozen=True)
class Synthesized:
    stack: DovecoteStack
    template: dict[str, Any]
    assembly_dir: Path

    @property
    def profile(self) -> Profile:
        return self.stack.profile


def _synthesize(app: App, stacks: list[DovecoteStack], outdir: Path) -> dict[str, Synthesized]:
    assembly = app.synth()
    return {
        stack.profile.name: Synthesized(
            stack=stack,
            template=assembly.get_stack_by_name(stack.stack_name).template,
            assembly_dir=outdir,
        )
        for stack in stacks
    }


@pytest.fixture(scope="session")
def standard(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("cdk-standard")
    app = create_app(outdir=str(outdir))
    stack = add_dovecote_stack(app, load_profile(DEFAULT_PROFILE))
    return _synthesize(app, [stack], outdir)[DEFAULT_PROFILE]


@pytest.fixture(scope="session")
def standard_template(standard: Synthesized) -> Template:
    return Template.from_stack(standard.stack)


@pytest.fixture(scope="session")
def other_profiles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synthesized]:
    outdir = tmp_path_factory.mktemp("cdk-profiles")
    app = create_app(outdir=str(outdir))
    stacks = [
        add_dovecote_stack(
            app,
            load_profile(name),
            stack_name=f"{STACK_NAME}-{name}",
            deletion_protection=name != UNPROTECTED_PROFILE,
        )
        for name in shipped_profile_names()
        if name != DEFAULT_PROFILE
    ]
    return _synthesize(app, stacks, outdir)


@pytest.fixture(scope="session")
def every_profile(standard: Synthesized, other_profiles: dict[str, Synthesized]) -> dict[str, Synthesized]:
    return {DEFAULT_PROFILE: standard, **other_profiles}


@pytest.fixture
def aws_credentials() -> Iterator[None]:
    """Fake credentials for moto; never a real account."""
    saved = {key: os.environ.get(key) for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
