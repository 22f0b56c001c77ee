"""`dovecote local`'s command line becomes the stack's options."""

from __future__ import annotations

from pathlib import Path

from dovecote_local.command import options_from, parser
from dovecote_local.stack import LocalOptions


def test_each_command_line_option_sets_the_stack_option_of_the_same_name() -> None:
    arguments = parser().parse_args(
        [
            "--port=9001",
            "--profile=mutx",
            "--api-key=dvc_app",
            "--platform-key=dvc_platform",
            "--time-scale=0.01",
            "--allow-http-loopback",
            "--moto-port=9002",
            "--template=/tmp/template.json",
            "--state-dir=/tmp/state",
            "--ready-file=/tmp/ready.json",
            "--verbose",
        ]
    )

    assert options_from(arguments) == LocalOptions(
        port=9001,
        profile="mutx",
        api_key="dvc_app",
        platform_key="dvc_platform",
        time_scale=0.01,
        allow_http_loopback=True,
        moto_port=9002,
        template=Path("/tmp/template.json"),
        state_dir=Path("/tmp/state"),
        verbose=True,
    )


def test_without_options_the_stack_keeps_its_defaults() -> None:
    assert options_from(parser().parse_args([])) == LocalOptions()
