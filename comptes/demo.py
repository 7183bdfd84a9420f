"""Demo accounts: clearly fictional people with the roles of PMA's service."""

from .models import User

DEMO_THEMES = [
    "Démarche participative",
    "Réussite éducative",
    "Tranquillité publique",
    "Accès à l'emploi",
    "Mobilités et santé",
    "Cadre de vie et renouvellement urbain",
]
DEMO_NAMES = [
    ("Camille", "Démo-Arnaud"),
    ("Julien", "Démo-Bernard"),
    ("Sophie", "Démo-Colin"),
    ("Karim", "Démo-Duval"),
    ("Léa", "Démo-Faure"),
    ("Thomas", "Démo-Girard"),
]


def _user(email: str, password: str, **fields) -> User:
    user, _ = User.objects.update_or_create(email=email, defaults=fields)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


def demo_users(*, password: str) -> dict[str, User]:
    users = {
        "service": _user(
            "service@demo.local",
            password,
            first_name="Nadia",
            last_name="Démo-Service",
            role=User.Role.CHEF_SERVICE,
        ),
        "direction": _user(
            "direction@demo.local",
            password,
            first_name="Pierre",
            last_name="Démo-Direction",
            role=User.Role.DIRECTION,
        ),
        "admin": _user(
            "admin@demo.local",
            password,
            first_name="Alex",
            last_name="Démo-Admin",
            role=User.Role.ADMINISTRATEUR,
            is_superuser=True,
        ),
    }
    for number, ((first, last), theme) in enumerate(zip(DEMO_NAMES, DEMO_THEMES, strict=True), 1):
        users[f"cdp{number}"] = _user(
            f"cdp{number}@demo.local",
            password,
            first_name=first,
            last_name=last,
            role=User.Role.CHEF_PROJET,
            theme=theme,
        )
    return users
