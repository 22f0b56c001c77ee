"""Settings read the environment at once but load the profile only when it is first needed."""

from __future__ import annotations

import os

import pytest

from functions.core import profile as profile_module
from functions.core.profile import Profile, load_profile
from functions.runtime.settings import ENV_EVENTS_QUEUE, ENV_PROFILE, ENV_STATE_MACHINE, Settings
from tests.unit.fresh_python import FUNCTION_ENVIRONMENT, REPO_ROOT, run_python


def test_the_profile_is_loaded_on_first_use_and_once(monkeypatch: pytest.MonkeyPatch):
    loads: list[str] = []

    def counting_load(name_or_path: object = "standard") -> Profile:
        loads.append(str(name_or_path))
        return load_profile(str(name_or_path))

    monkeypatch.setattr(profile_module, "load_profile", counting_load)
    monkeypatch.setenv(ENV_PROFILE, "miteos")

    settings = Settings.from_environment()
    assert loads == []

    assert settings.profile.name == "miteos"
    assert settings.profile is settings.profile
    assert loads == ["miteos"]


def test_the_profile_named_when_the_settings_were_read_is_the_one_loaded(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(ENV_PROFILE, "mutx")
    settings = Settings.from_environment()
    monkeypatch.setenv(ENV_PROFILE, "delegated")

    assert settings.profile == load_profile("mutx")


def test_settings_with_a_given_profile_never_read_the_environment_for_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(ENV_PROFILE, "no-such-profile")
    mynd = load_profile("mynd")

    settings = Settings("table", "", "", "", load_profile=lambda: mynd)

    assert settings.profile is mynd
    assert settings == Settings("table", "", "", "")  # the profile's source is not part of the value


def test_the_management_function_builds_no_profile_before_a_route_needs_one():
    # The routes import EVENT_TYPE_PATTERN from the profile module; its models' schemas are deferred.
    code = (
        "import functions.management.handler\n"
        "from functions.management.dependencies import dependencies\n"
        "from functions.core.profile import Profile\n"
        "settings = dependencies().settings\n"
        "print(Profile.__pydantic_complete__, 'profile' in vars(settings))\n"
        "print(settings.profile.name, Profile.__pydantic_complete__)"
    )
    environment = {
        **os.environ,
        **FUNCTION_ENVIRONMENT,
        "PYTHONPATH": str(REPO_ROOT),
        ENV_PROFILE: "miteos",
        ENV_STATE_MACHINE: "arn:aws:states:us-east-1:123456789012:stateMachine:retries",
        ENV_EVENTS_QUEUE: "https://sqs.us-east-1.amazonaws.com/123456789012/events",
    }
    completed = run_python("-c", code, environment=environment)

    assert completed.returncode == 0, completed.stderr

    assert completed.stdout.splitlines()[-2:] == ["False False", "miteos True"]
