"""A seeded, plausible population for the simulators: Chinese payers and payees (people and
companies, names and addresses in Chinese script, e-CNY wallets of each KYC tier), foreign
customers of each correspondent bank, and the accounts they hold. Same seed, same population."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from schwifty import IBAN

from router.iso20022.directory import Directory, Participant
from router.iso20022.model import Account, Party, PostalAddress

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文辉力鹏宇浩然子涵梓轩欣怡雨泽佳琪晨"
COMPANY_STEMS = ["明远", "华信", "东方", "长城", "瑞丰", "恒达", "金桥", "海润", "新元", "鼎盛", "宏图", "天成"]
COMPANY_KINDS = ["贸易有限公司", "电子科技有限公司", "进出口有限公司", "机械制造有限公司", "纺织品有限公司"]
CITIES = [  # (town in Chinese, post code prefix, streets)
    ("北京", "100", ["建国门外大街", "长安街", "中关村大街"]),
    ("上海", "200", ["南京东路", "淮海中路", "世纪大道"]),
    ("广州", "510", ["天河路", "环市东路", "中山大道"]),
    ("深圳", "518", ["深南大道", "福华路", "科技园路"]),
    ("杭州", "310", ["延安路", "文三路", "钱江路"]),
    ("成都", "610", ["人民南路", "春熙路", "天府大道"]),
]
FOREIGN: dict[str, tuple[list[str], list[str], list[str], list[str]]] = {
    # country: (given names, surnames / company names, towns, streets). Company names are kept off
    # the real lists' names: "Tan Pte Ltd" is the listed "TAN S.A." without its legal form, and
    # "Siam Rice Co Ltd" one letter from "SIAM NICE COMPANY LTD.", which held 6% of the demo's
    # foreign customers (tests/unit/test_population_screening.py keeps it so).
    "DE": (["Anna", "Lukas", "Marie", "Felix"], ["Becker GmbH", "Schmidt", "Weber AG", "Fischer"],
           ["Frankfurt am Main", "Hamburg", "Munich"], ["Zeil", "Mainzer Landstrasse", "Hauptstrasse"]),
    "GB": (["Oliver", "Amelia", "Harry", "Isla"], ["Smith Trading Ltd", "Jones", "Taylor Foods Plc", "Brown"],
           ["London", "Leeds", "Bristol"], ["High Street", "King Street", "Station Road"]),
    "US": (["James", "Olivia", "Noah", "Emma"], ["Johnson Inc", "Miller", "Davis Logistics LLC", "Garcia"],
           ["New York", "Chicago", "Seattle"], ["Main Street", "Broadway", "Market Street"]),
    "SG": (["Wei Ling", "Arjun", "Siti", "Marcus"], ["Tan Brothers Pte Ltd", "Lim", "Ng Holdings", "Koh"],
           ["Singapore"], ["Orchard Road", "Robinson Road", "Cecil Street"]),
    "HK": (["Ka Ming", "Wing Yan", "Chi Wai", "Mei Ling"], ["Chan Trading Ltd", "Wong", "Leung", "Cheung Ltd"],
           ["Hong Kong"], ["Queens Road Central", "Nathan Road", "Des Voeux Road"]),
    "TH": (["Somchai", "Nattaya", "Anan", "Ploy"], ["Chao Phraya Rice Co Ltd", "Srisuk", "Chaiyaporn", "Thai Tex"],
           ["Bangkok", "Chiang Mai"], ["Sukhumvit Road", "Silom Road", "Rama IV Road"]),
    "AE": (["Ahmed", "Fatima", "Omar", "Layla"], ["Al Noor Trading LLC", "Al Mansoori", "Gulf Star FZE", "Haddad"],
           ["Dubai", "Abu Dhabi"], ["Sheikh Zayed Road", "Al Wasl Road", "Corniche Road"]),
    "SA": (["Abdullah", "Noura", "Khalid", "Sara"], ["Al Rajhi Trading", "Al Qahtani", "Najd Steel Co", "Al Otaibi"],
           ["Riyadh", "Jeddah"], ["King Fahd Road", "Olaya Street", "Tahlia Street"]),
}
IBAN_COUNTRIES = {"DE": ("37040044", 10), "GB": ("NWBK601613", 8), "AE": ("033", 16), "SA": ("80", 18)}
# e-CNY wallet categories: 4 = anonymous (phone number only) ... 1 = full KYC in person.
WALLET_TIERS = (1, 2, 3, 4)
# Parties on the shipped (fictional) demo sanctions list, as payers and payees would write them.
SANCTIONED_CREDITORS = ("HARROWGATE MARITIME HOLDINGS LTD", "Banco Ficticio del Norte")
SANCTIONED_DEBTORS = ("赵伟明", "林晓红")
CIPS_PURPOSES = ("CGOD", "CSVC", "CSAL", "CINV", "CTRD", "CCSH")
# How much of the CIPS side's traffic each participant's customers send and receive: the large
# state banks carry most of it, the small regional banks little (a uniform choice had the smallest
# bank paying as much as the largest).
VOLUME_WEIGHTS = {"JDHBCNSH": 1.0, "WLKECNBJ": 1.0, "PRLRCNGZ": 1.5}
DEFAULT_VOLUME_WEIGHT = 3.0
# Small banks on each side of the corridor bank each other's trade: their customers mostly pay,
# and are paid by, customers of their partner (the two-way flows a thinly funded bank lives on).
TRADE_PARTNERS = {"JDHBCNSH": "HDSNUS33", "WLKECNBJ": "NRDBDEFF"}
PARTNER_SHARE = 0.9
# Correspondents' shares of the traffic: as payee banks of CIPS-side payments, and as senders of
# payments to China. The small banks' partners do their CNY business almost only with them: they
# are rarely paid through the large banks, and they send about what their partner sends them.
CORR_PAID_WEIGHTS = {"HDSNUS33": 0.02, "NRDBDEFF": 0.02}
CORR_PAYING_WEIGHTS = {"HDSNUS33": 2.0, "NRDBDEFF": 2.0}


@dataclass(frozen=True, slots=True)
class Customer:
    party: Party
    account: Account
    bank: Participant
    wallet_tier: int | None = None


def chinese_person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def chinese_company(rng: random.Random) -> str:
    return rng.choice(("上海", "广州", "深圳", "杭州", "")) + rng.choice(COMPANY_STEMS) + rng.choice(COMPANY_KINDS)


def chinese_address(rng: random.Random) -> PostalAddress:
    town, post, streets = rng.choice(CITIES)
    return PostalAddress(street=rng.choice(streets), building_number=str(rng.randint(1, 399)),
                         post_code=f"{post}{rng.randint(0, 999):03d}", town=town, country="CN")


def wallet_id(operator: Participant, tier: int, rng: random.Random) -> str:
    """16 digits: the operator's 3-digit prefix, the wallet category (1-4), 12 more digits."""
    assert operator.wallet_prefix is not None
    return operator.wallet_prefix + str(tier) + "".join(str(rng.randint(0, 9)) for _ in range(12))


def cips_bank(directory: Directory, rng: random.Random) -> Participant:
    """A CIPS participant drawn by its share of the traffic (``VOLUME_WEIGHTS``)."""
    banks = [p for p in directory.participants if not p.bic.startswith("ROUT")]
    weights = [VOLUME_WEIGHTS.get(p.bic[:8], DEFAULT_VOLUME_WEIGHT) for p in banks]
    return rng.choices(banks, weights)[0]


def correspondent(banks: list[Participant] | tuple[Participant, ...], rng: random.Random, *,
                  paying: bool) -> Participant:
    """A correspondent drawn by its share of the traffic, as payer (``paying``) or as payee bank."""
    table = CORR_PAYING_WEIGHTS if paying else CORR_PAID_WEIGHTS
    return rng.choices(banks, [table.get(b.bic[:8], 1.0) for b in banks])[0]


def partner_of(bic: str, rng: random.Random) -> str | None:
    """The BIC8 of the bank's trade partner on the other side, for ``PARTNER_SHARE`` of its
    payments (``TRADE_PARTNERS`` both ways); None: anyone."""
    bic8 = bic[:8]
    partner = TRADE_PARTNERS.get(bic8) or next((c for c, f in TRADE_PARTNERS.items() if f == bic8), None)
    return partner if partner is not None and rng.random() < PARTNER_SHARE else None


def chinese_customer(directory: Directory, rng: random.Random, *, wallet: bool | None = None,
                     tier: int | None = None, bank: Participant | None = None) -> Customer:
    bank = bank or cips_bank(directory, rng)
    if wallet is None:
        wallet = bank.ecny_operator and rng.random() < 0.4
    if wallet and not bank.ecny_operator:
        bank = rng.choice([p for p in directory.participants if p.ecny_operator])
    person = wallet or rng.random() < 0.6
    name = chinese_person(rng) if person else chinese_company(rng)
    party = Party(name=name, address=chinese_address(rng))
    if wallet:
        t = tier or rng.choice(WALLET_TIERS)
        return Customer(party, Account(id=wallet_id(bank, t, rng), kind="ecny", scheme="ECNY"), bank, t)
    return Customer(party, Account(id="6222" + "".join(str(rng.randint(0, 9)) for _ in range(15))), bank)


def foreign_customer(bank: Participant, rng: random.Random) -> Customer:
    given, family, towns, streets = FOREIGN.get(bank.country, FOREIGN["US"])
    last = rng.choice(family)
    name = last if any(w in last for w in ("Ltd", "GmbH", "AG", "Inc", "LLC", "Plc", "Co", "FZE", "Pte")) \
        else f"{rng.choice(given)} {last}"
    address = PostalAddress(street=rng.choice(streets), building_number=str(rng.randint(1, 200)),
                            post_code=str(rng.randint(10000, 99999)), town=rng.choice(towns), country=bank.country)
    if bank.country in IBAN_COUNTRIES:
        code, digits = IBAN_COUNTRIES[bank.country]
        acct = "".join(str(rng.randint(0, 9)) for _ in range(digits))
        account = Account(id=str(IBAN.generate(bank.country, bank_code=code, account_code=acct)).replace(" ", ""),
                          kind="iban")
    else:
        account = Account(id="".join(str(rng.randint(0, 9)) for _ in range(12)))
    return Customer(Party(name=name, address=address), account, bank)


def cny_amount(rng: random.Random, *, tiny: bool = False) -> Decimal:
    """Amounts with the corridor's long tail; red packets are lucky small numbers."""
    if tiny:
        return Decimal(rng.choice(("6.66", "8.88", "16.88", "66.66", "88.88", "168.00", "188.88")))
    value = Decimal(str(round(rng.lognormvariate(9.0, 1.3), 2)))
    return max(Decimal("10.00"), min(value, Decimal("2000000.00"))).quantize(Decimal("0.01"))
