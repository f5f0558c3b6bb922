"""Fixed vocabularies of the synthetic world: personas, topics, offers, categories, zones, names.

A persona is a *distribution* over a person's behavioural parameters: each person draws their own
values around the persona's centre (see :mod:`ml.synthetic.population`), so personas overlap and
no single column separates them.
"""

from __future__ import annotations

from dataclasses import dataclass

TOPICS = ("home", "fashion", "beauty", "tech", "outdoor", "food", "kids", "editorial")
OFFERS = ("discount", "new_arrival", "editorial", "announcement", "winback")
CATEGORIES = ("home", "fashion", "beauty", "electronics", "outdoor", "food", "kids", "books")
TOPIC_TO_CATEGORY = tuple(range(len(TOPICS)))  # topic i sells mostly from category i
CATEGORY_MEDIAN_PRICE = (42.0, 48.0, 22.0, 110.0, 65.0, 14.0, 28.0, 16.0)
CATEGORY_NOUNS = (
    ("lamp", "vase", "cushion", "throw", "mug set", "planter", "mirror", "rug"),
    ("jacket", "sweater", "dress", "scarf", "sneakers", "jeans", "shirt", "boots"),
    ("serum", "cleanser", "lipstick", "face mask", "perfume", "body lotion", "palette", "shampoo"),
    ("headphones", "charger", "speaker", "smartwatch", "keyboard", "webcam", "tablet case", "e-reader"),
    ("tent", "backpack", "water bottle", "hiking poles", "sleeping bag", "headlamp", "rain shell", "stove"),
    ("coffee beans", "olive oil", "tea sampler", "chocolate box", "hot sauce", "granola", "spice kit", "honey"),
    ("puzzle", "plush bear", "building set", "storybook", "crayons", "scooter", "board game", "pyjamas"),
    ("novel", "cookbook", "travel guide", "notebook", "biography", "art book", "poetry", "comic"),
)
ADJECTIVES = ("Classic", "Essential", "Nordic", "Urban", "Cosy", "Pro", "Everyday", "Deluxe", "Mini", "Organic")

EMAIL_EVENT_TYPES = ("sent", "delivered", "open", "click", "bounce", "unsubscribe", "spam_complaint")
SENT, DELIVERED, OPEN, CLICK, BOUNCE, UNSUBSCRIBE, SPAM = range(7)
DEVICES = ("desktop", "mobile", "tablet", "unknown")
BOUNCE_TYPES = ("hard", "soft")
WEB_EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "checkout_started", "search")
ORDER_STATUSES = ("completed", "refunded", "cancelled")
ORDER_CHANNELS = ("web", "store", "app")
FREQUENCIES = ("daily", "weekly", "monthly")
FREQUENCY_MULT = (2.6, 1.0, 0.3)
GENDERS = ("F", "M", "X")
SIGNUP_SOURCES = ("web_form", "checkout", "popup", "referral", "social", "import")
SIGNUP_SOURCE_P = (0.35, 0.25, 0.20, 0.08, 0.07, 0.05)
DOMAINS = ("example.com", "mail.test", "inbox.test")
DOMAIN_P = (0.5, 0.3, 0.2)
INVALID_EMAILS = ("not-an-email", "a@b", "john.doe@", "@example.com", "jane doe@example.com",
                  "info@@example.com", "n/a")

FIRST_NAMES_F = ("anna", "emma", "olivia", "sophie", "mia", "laura", "julia", "sara", "grace", "chloe",
                 "hannah", "lucy", "maria", "nina", "yuki", "priya", "elena", "isabel", "zoe", "ava")
FIRST_NAMES_M = ("ben", "david", "felix", "henry", "jack", "leo", "lucas", "max", "noah", "oliver",
                 "paul", "sam", "tom", "daniel", "hiro", "raj", "marco", "jonas", "liam", "ethan")
LAST_NAMES = ("smith", "jones", "muller", "garcia", "tanaka", "brown", "wilson", "lopez", "schmidt",
              "martin", "dubois", "rossi", "nguyen", "kim", "patel", "taylor", "walker", "fischer",
              "weber", "moreau", "silva", "sato", "evans", "clarke", "novak", "jensen", "larsen",
              "murphy", "kelly", "anderson", "thomas", "white", "young", "king", "wright", "green")


@dataclass(frozen=True)
class Zone:
    name: str
    country: str
    weight: float
    cities: tuple[tuple[str, str, str, int], ...]  # (city, region, postal prefix, random digits)


ZONES = (
    Zone("Europe/London", "GB", 0.16, (("London", "England", "EC", 2), ("Manchester", "England", "M", 2),
                                       ("Birmingham", "England", "B", 2), ("Glasgow", "Scotland", "G", 2))),
    Zone("Europe/Dublin", "IE", 0.02, (("Dublin", "Leinster", "D", 2), ("Cork", "Munster", "T12", 2))),
    Zone("Europe/Berlin", "DE", 0.10, (("Berlin", "BE", "10", 3), ("Munich", "BY", "80", 3),
                                       ("Hamburg", "HH", "20", 3), ("Cologne", "NW", "50", 3))),
    Zone("Europe/Paris", "FR", 0.07, (("Paris", "IDF", "75", 3), ("Lyon", "ARA", "69", 3),
                                      ("Marseille", "PAC", "13", 3))),
    Zone("Europe/Madrid", "ES", 0.04, (("Madrid", "MD", "28", 3), ("Barcelona", "CT", "08", 3))),
    Zone("Europe/Amsterdam", "NL", 0.04, (("Amsterdam", "NH", "10", 2), ("Rotterdam", "ZH", "30", 2))),
    Zone("Europe/Stockholm", "SE", 0.02, (("Stockholm", "AB", "11", 3), ("Gothenburg", "O", "41", 3))),
    Zone("America/New_York", "US", 0.13, (("New York", "NY", "100", 2), ("Boston", "MA", "021", 2),
                                          ("Atlanta", "GA", "303", 2), ("Miami", "FL", "331", 2))),
    Zone("America/Chicago", "US", 0.07, (("Chicago", "IL", "606", 2), ("Dallas", "TX", "752", 2),
                                         ("Houston", "TX", "770", 2))),
    Zone("America/Denver", "US", 0.02, (("Denver", "CO", "802", 2),)),
    Zone("America/Los_Angeles", "US", 0.08, (("Los Angeles", "CA", "900", 2),
                                             ("San Francisco", "CA", "941", 2), ("Seattle", "WA", "981", 2))),
    Zone("America/Toronto", "CA", 0.03, (("Toronto", "ON", "M5V", 0), ("Ottawa", "ON", "K1P", 0))),
    Zone("America/Sao_Paulo", "BR", 0.02, (("Sao Paulo", "SP", "01", 6),)),
    Zone("Asia/Tokyo", "JP", 0.04, (("Tokyo", "13", "100-", 4), ("Osaka", "27", "530-", 4))),
    Zone("Asia/Singapore", "SG", 0.02, (("Singapore", "SG", "0", 5),)),
    Zone("Asia/Kolkata", "IN", 0.02, (("Mumbai", "MH", "400", 3), ("Bengaluru", "KA", "560", 3))),
    Zone("Australia/Sydney", "AU", 0.04, (("Sydney", "NSW", "20", 2), ("Newcastle", "NSW", "23", 2))),
    Zone("Australia/Melbourne", "AU", 0.01, (("Melbourne", "VIC", "30", 2),)),
    Zone("Pacific/Auckland", "NZ", 0.01, (("Auckland", "AUK", "10", 2),)),
)


@dataclass(frozen=True)
class Persona:
    name: str
    share: float
    open_p: float  # real-open probability for a typical campaign
    click_p: float  # click probability given a real open
    purchase_rate: float  # orders per year
    aov: float  # average order value
    discount_sens: float  # 0..1
    hazard: float  # yearly hazard of going quiet for good
    mpp: float  # share using a privacy-proxy mail client (machine opens)
    devices: tuple[float, float, float]  # desktop, mobile, tablet
    hours: tuple[tuple[int, float], ...]  # preferred local hour centres and weights
    dows: tuple[float, ...]  # weekday weights, Monday first
    topics: tuple[float, ...]  # weights over TOPICS
    offers: tuple[float, ...]  # click multipliers over OFFERS
    web_rate: float  # browsing sessions per year
    cart_p: float  # share of browsing sessions that add to cart (and abandon)
    baseline_share: float  # share of purchases that happen without a campaign click
    intensity: float  # how often the sender mails this kind of person (relative)
    fatigue: float  # sensitivity to mail pressure
    signup: str  # "any", "recent", "old"
    decay: str = "none"  # "none", "lapse" (decays from a random point), "honeymoon" (from signup)
    seasonal: float = 1.0  # purchase multiplier in the gift season (mid Nov - Dec)
    app_p: float = 0.15  # share of orders through the app
    dow_habit: float = 0.3  # share of reactions moved to the preferred weekday


WEEKDAYS = (1.2, 1.2, 1.2, 1.2, 1.0, 0.7, 0.7)
OFFICE = (1.4, 1.4, 1.4, 1.4, 1.2, 0.15, 0.15)  # Monday-Friday people
WEEKEND = (0.25, 0.25, 0.25, 0.25, 0.5, 3.0, 3.0)
FLAT = (1.0,) * 8
# Each persona has a multi-dimensional signature -- engagement level, reading hour, weekday pattern,
# device mix, topic / offer taste, buying rhythm -- and shares any single trait with some other
# persona (e.g. 7 am readers: steady_regular buyers on desktop, newsletter_reader commuters on mobile).
PERSONAS = (
    Persona("vip_loyal", 0.06, 0.62, 0.20, 7.0, 160.0, 0.15, 0.03, 0.25, (0.8, 0.12, 0.08),
            ((20, 0.95), (8, 0.05)), WEEKDAYS,
            (3, 2.5, 1, 1, 0.7, 0.7, 0.5, 0.8), (0.6, 2.0, 0.8, 1.4, 0.5), 10.0, 0.12, 0.75, 2.4, 0.15, "old",
            app_p=0.25),
    Persona("discount_hunter", 0.12, 0.48, 0.12, 3.0, 38.0, 0.95, 0.06, 0.25, (0.12, 0.83, 0.05),
            ((12, 0.95), (18, 0.05)), OFFICE,
            (1, 1, 3.5, 1, 0.7, 2, 1, 0.2), (3.0, 0.5, 0.2, 0.6, 2.2), 6.0, 0.25, 0.2, 1.5, 0.3, "any",
            dow_habit=0.5),
    Persona("window_shopper", 0.11, 0.45, 0.19, 0.35, 70.0, 0.5, 0.06, 0.25, (0.1, 0.45, 0.45),
            ((21, 0.95), (15, 0.05)), WEEKEND,
            (1.2, 4, 1.2, 0.8, 0.8, 0.5, 0.5, 0.5), (1.0, 2.2, 0.5, 0.8, 0.8), 30.0, 0.45, 0.6, 1.3, 0.4, "any",
            dow_habit=0.6),
    Persona("newsletter_reader", 0.11, 0.62, 0.04, 0.3, 35.0, 0.15, 0.04, 0.3, (0.12, 0.83, 0.05),
            ((7, 0.95), (13, 0.05)), OFFICE,
            (0.6, 0.4, 0.4, 1, 0.8, 1.2, 0.4, 6), (0.4, 0.7, 3.0, 1.0, 0.5), 0.8, 0.05, 0.6, 2.0, 0.15, "old",
            dow_habit=0.5),
    Persona("new_enthusiast", 0.08, 0.62, 0.20, 2.2, 75.0, 0.4, 0.15, 0.3, (0.35, 0.55, 0.1),
            ((17, 0.95), (9, 0.05)), WEEKDAYS,
            (1, 1, 1, 4, 2, 0.6, 0.6, 0.6), (1.0, 1.8, 1.0, 1.2, 0.6), 10.0, 0.2, 0.5, 1.8, 0.2, "recent",
            decay="honeymoon"),
    Persona("lapsing_customer", 0.12, 0.55, 0.10, 2.2, 60.0, 0.45, 0.25, 0.25, (0.55, 0.15, 0.3),
            ((10, 0.95), (20, 0.05)), WEEKDAYS,
            (2, 1, 0.8, 1, 1, 2.5, 0.8, 0.6), (1.0, 0.8, 0.8, 0.8, 3.0), 4.0, 0.12, 0.6, 1.2, 0.6, "old",
            decay="lapse"),
    Persona("dormant", 0.16, 0.05, 0.08, 0.2, 50.0, 0.3, 0.6, 0.3, (0.5, 0.4, 0.1),
            ((15, 0.6), (9, 0.2), (20, 0.2)), WEEKDAYS,
            FLAT, (1, 1, 1, 1, 1.3), 0.3, 0.1, 0.8, 0.1, 0.5, "old"),
    Persona("night_owl_mobile", 0.07, 0.50, 0.15, 2.0, 55.0, 0.5, 0.06, 0.35, (0.04, 0.92, 0.04),
            ((0, 0.7), (23, 0.3)), (1, 1, 1, 1, 1.3, 1.5, 1),
            (0.6, 1.5, 1.5, 4, 0.5, 0.5, 0.3, 0.6), (1.2, 1.6, 0.5, 0.8, 0.9), 8.0, 0.25, 0.6, 1.4, 0.3, "any",
            app_p=0.65),
    Persona("seasonal_gift_buyer", 0.07, 0.42, 0.10, 1.2, 110.0, 0.4, 0.05, 0.25, (0.55, 0.2, 0.25),
            ((14, 0.95), (10, 0.05)), WEEKEND,
            (1.5, 0.8, 1, 1.2, 0.5, 1, 6, 0.5), (1.1, 1.2, 0.7, 1.0, 0.9), 2.0, 0.15, 0.8, 1.2, 0.5, "any",
            seasonal=5.0, dow_habit=0.6),
    Persona("steady_regular", 0.10, 0.45, 0.08, 1.5, 55.0, 0.3, 0.04, 0.25, (0.82, 0.13, 0.05),
            ((7, 0.95), (12, 0.05)), OFFICE,
            (1, 0.8, 1, 1, 3.5, 2, 1, 0.8), (1, 1, 1, 1, 1), 3.0, 0.1, 0.6, 1.3, 0.3, "any",
            dow_habit=0.5),
)
PERSONA_NAMES = tuple(p.name for p in PERSONAS)
