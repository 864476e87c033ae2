"""Fill the pt-PT wording of the seeded catalog entries (0002), by code.

An entry a program admin already translated (or renamed away from the seeded English)
is left as it is; products keep their brand names."""

from django.db import migrations

COOP_PT = (
    "As reclamações do programa {name} não são reclamações de associação de clientes "
    "(CPOR). Submeta-as através do processo de reclamações co-op descrito em “Obter fundos "
    "de marketing cooperativo”."
)

# model, code, seeded English name, Portuguese name, extra Portuguese fields
NAMES = [
    ("SolutionArea", "modern_work_security", "Modern Work and Security",
     "Trabalho Moderno e Segurança", {}),
    ("SolutionArea", "business_applications", "Business Applications",
     "Aplicações Empresariais", {}),
    ("Engagement", "mci_bizapps_presales_advisor", "MCI BizApps Presales Advisor",
     "MCI BizApps - Consultor de pré-venda", {}),
    ("Engagement", "modern_work_security_usage", "Modern Work and Security Usage",
     "Utilização de Trabalho Moderno e Segurança", {}),
    ("Engagement", "usage_recognition_bizapps", "Usage Recognition - Biz Apps",
     "Reconhecimento de utilização - Biz Apps", {}),
    ("Engagement", "bizapps_revenue", "Microsoft Business Applications Revenue",
     "Receita de Aplicações Empresariais Microsoft", {}),
    ("PartnerRole", "use_or_consume", "Use or consume", "Usar ou consumir", {
        "help_text_pt": "Escolha-a se impulsiona a adoção e a utilização de uma carga de "
        "trabalho qualificada e pretende candidatar-se a incentivos de utilização e/ou à "
        "obtenção de utilização/competência.",
    }),
    ("PartnerRole", "build_intent_advisor", "Build intent - Advisor",
     "Intenção de compra - Consultor", {
        "help_text_pt": "Escolha-a se influenciou a compra de um produto elegível e pretende "
        "candidatar-se a incentivos de pré-venda. Só se o cliente comprou os produtos através "
        "de Licenciamento por Volume ou Web Direct.",
    }),
    ("PartnerRole", "usage_recognition", "Usage recognition - Non-incentivized",
     "Reconhecimento de utilização - Sem incentivos", {
        "help_text_pt": "Escolha-a se impulsiona a adoção e a utilização de uma carga de "
        "trabalho qualificada. Só se o cliente comprou os produtos através de Licenciamento "
        "por Volume ou Web Direct.",
    }),
    ("PartnerRole", "influenced_revenue", "Influenced revenue recognition - Non-incentivized",
     "Reconhecimento de receita influenciada - Sem incentivos", {
        "help_text_pt": "Escolha-a se influenciou a seleção de um produto elegível como "
        "influenciador de negócio. Apenas associação de receita, sem pagamentos de "
        "incentivos. Só se o cliente comprou os produtos através de Licenciamento por Volume "
        "ou Web Direct.",
    }),
    ("OutOfScopeProgram", "csp", "Cloud Solution Provider (CSP)",
     "Fornecedor de Soluções Cloud (CSP)", {}),
    ("OutOfScopeProgram", "managed_reseller", "Managed Reseller", "Revendedor gerido", {}),
    ("OutOfScopeProgram", "hosting", "Hosting", "Alojamento", {}),
    ("OutOfScopeProgram", "surface", "Surface", "Surface", {}),
]  # fmt: skip


def fill(apps, schema_editor):
    for model_name, code, english, portuguese, extra in NAMES:
        entry = apps.get_model("catalog", model_name).objects.filter(code=code).first()
        if entry is None or entry.name != english or entry.name_pt:
            continue
        entry.name_pt = portuguese
        for field, value in extra.items():
            setattr(entry, field, value)
        if model_name == "OutOfScopeProgram":
            entry.message_pt = COOP_PT.format(name=portuguese)
        entry.save()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_portuguese_names")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
