"""What an agent that starts is told (POST agent.protocol.RECOVERY_PATH), before it starts any guest."""

from agent import protocol
from apps.compute import states
from apps.infrastructure.models import Host
from apps.infrastructure.tests.agents import SignedAgent

from .factories import InstanceFactory


def ask(agent):
    message = protocol.RecoveryRequest(protocol.PROTOCOL_VERSION, agent.name, 0)
    return agent.post(protocol.RECOVERY_PATH, message)


def test_a_starting_agent_is_told_each_of_its_instances_and_what_its_guest_should_be_doing(root, image):
    agent = SignedAgent.enrolled("kvm-01")
    host = Host.objects.get(name="kvm-01")
    wanted = {
        InstanceFactory(host=host, image=image, vm_state=state, task_state=task).pk: power
        for state, task, power in [
            (states.ACTIVE, None, "running"),
            (states.PAUSED, None, "paused"),
            (states.STOPPED, None, "off"),
            (states.ERROR, None, "off"),
            # An action under way decides for itself.
            (states.ACTIVE, states.REBOOTING, "off"),
        ]
    }
    elsewhere = InstanceFactory(image=image)

    answer = protocol.Recovery.from_dict(ask(agent).json())

    assert not answer.fenced
    told = {desired.instance.instance_id: desired.power for desired in answer.instances}
    assert told == {str(pk): power for pk, power in wanted.items()}
    assert str(elsewhere.pk) not in told


def test_a_fenced_host_is_told_so_and_nothing_of_its_instances(root, image):
    agent = SignedAgent.enrolled("kvm-01")
    Host.objects.filter(name="kvm-01").update(state=Host.FENCED)
    InstanceFactory(host=Host.objects.get(name="kvm-01"), image=image)

    answer = protocol.Recovery.from_dict(ask(agent).json())

    assert (answer.fenced, answer.instances) == (True, [])


def test_only_a_signed_host_asks_and_only_about_itself(root):
    agent = SignedAgent.enrolled("kvm-01")
    other = SignedAgent.enrolled("kvm-02")
    about_other = other.post(
        protocol.RECOVERY_PATH, protocol.RecoveryRequest(protocol.PROTOCOL_VERSION, "kvm-01", 0)
    )
    assert (about_other.status_code, about_other.json()["error"]["code"]) == (403, "other_host")
    forged = agent.post(
        protocol.RECOVERY_PATH,
        protocol.RecoveryRequest(protocol.PROTOCOL_VERSION, "kvm-01", 0),
        signer=("kvm-01", other.key),
    )
    assert forged.status_code == 401
