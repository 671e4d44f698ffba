"""Operations on zones and hosts: admin changes, enrollment, heartbeats, marking silent hosts down."""
