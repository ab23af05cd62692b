"""Schemathesis hooks for tests/contract.rs (loaded through SCHEMATHESIS_HOOKS)."""

import os

import schemathesis

# The id of the key the run authenticates with.
OWN_KEY_ID = os.environ["ALLOT_CONTRACT_KEY_ID"]


@schemathesis.hook
def before_call(context, case, kwargs):
    # Revoking the run's own key would make every later request a 401 and test nothing more;
    # DELETE /v1/keys/{id} is still fuzzed, on every other id (the keys the run creates).
    if case.operation.label == "DELETE /v1/keys/{id}" and case.path_parameters.get("id") == OWN_KEY_ID:
        case.path_parameters["id"] = "not-the-runs-own-key"
