"""What the admin's person form posts, from a person's current values (tests override some)."""


def person_post_data(person, **overrides) -> dict:
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "role": person.role,
        "teams": [t.pk for t in person.teams.all()],
        "manages": [t.pk for t in person.managed_teams.all()],
        "phone": person.phone,
        "time_zone": person.time_zone,
        "away_from": person.away_from.isoformat() if person.away_from else "",
        "away_until": person.away_until.isoformat() if person.away_until else "",
    }
    data.update(overrides)
    return data
