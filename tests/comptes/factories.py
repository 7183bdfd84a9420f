import factory

from comptes.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"agent{n}@pma.test")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    role = User.Role.CHEF_PROJET
    password = factory.django.Password("motdepasse-solide-42")

    class Params:
        chef_service = factory.Trait(role=User.Role.CHEF_SERVICE)
        direction = factory.Trait(role=User.Role.DIRECTION)
        administrateur = factory.Trait(role=User.Role.ADMINISTRATEUR)
