"""Value pools for slot filling (device names, areas, numbers, durations, items...).

Pure data + tiny generators; no heavy imports.  Everything is lower case: the
tokenizer is uncased.
"""

from __future__ import annotations

import random

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def num_words(n: int) -> str:
    """English words for 0 <= n < 100000 (no 'and' unless chosen by the caller)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        t, o = divmod(n, 10)
        return _TENS[t] + ("" if o == 0 else random.choice(["-", " "]) + _ONES[o])
    if n < 1000:
        h, r = divmod(n, 100)
        return _ONES[h] + " hundred" + ("" if r == 0 else random.choice([" ", " and "]) + num_words(r))
    th, r = divmod(n, 1000)
    if r and r % 100 == 0 and th < 10 and random.random() < 0.5:
        return num_words(n // 100) + " hundred"
    return num_words(th) + " thousand" + ("" if r == 0 else " " + num_words(r))


def number(n: int, p_words: float = 0.35) -> str:
    return num_words(n) if random.random() < p_words else str(n)


def pct_number(lo: int = 0, hi: int = 100) -> int:
    if random.random() < 0.6:
        return random.choice([v for v in range(lo, hi + 1) if v % 10 == 0 or v % 25 == 0] or [lo])
    return random.randint(lo, hi)


def percent_value(lo: int = 0, hi: int = 100, p_bare: float = 0.2) -> str:
    """'30', '30%', '30 percent', 'thirty percent'."""
    n = pct_number(lo, hi)
    if random.random() < 0.3:
        return num_words(n) + random.choice([" percent", " percent", " per cent", ""])
    s = str(n)
    r = random.random()
    if r < p_bare:
        return s
    if r < 0.55:
        return s + "%"
    if r < 0.65:
        return s + " %"
    return s + random.choice([" percent", " percent", " per cent", " pct"])


BRIGHTNESS_WORDS = ["half", "max", "maximum", "full", "full brightness", "minimum", "min", "lowest", "highest",
                    "fifty percent", "half brightness", "a quarter", "one hundred percent", "100 percent",
                    "full power", "max brightness", "the max", "the lowest setting", "the minimum"]


def brightness_value() -> str:
    if random.random() < 0.15:
        return random.choice(BRIGHTNESS_WORDS)
    return percent_value(1, 100)


def position_value() -> str:
    if random.random() < 0.15:
        return random.choice(["half", "half way", "halfway", "a quarter", "three quarters", "fully", "all the way",
                              "a third", "half open"])
    return percent_value(0, 100)


def volume_value() -> str:
    r = random.random()
    if r < 0.1:
        return random.choice(["max", "maximum", "half", "full", "minimum", "the max", "a quarter"])
    if r < 0.25:
        return random.choice(["level ", ""]) + number(random.randint(1, 10))
    return percent_value(0, 100)


FAN_WORDS = ["low", "medium", "high", "max", "maximum", "full", "full speed", "top speed", "the lowest setting",
             "minimum", "half", "half speed", "highest", "lowest"]


def fan_value() -> str:
    if random.random() < 0.25:
        return random.choice(FAN_WORDS)
    return percent_value(0, 100)


def temperature_value() -> str:
    r = random.random()
    if r < 0.5:
        n = random.randint(16, 28)
    elif r < 0.8:
        n = random.randint(60, 80)
    else:
        n = random.randint(5, 90)
    if random.random() < 0.12 and n < 40:
        s = f"{n}.{random.choice([5, 5, 5, 2, 8])}"
        if random.random() < 0.3:
            s = num_words(n) + " point " + random.choice(["five", "five", "two"])
    else:
        s = number(n, 0.35)
    unit = random.choice(["", "", "", " degrees", " degrees", " degrees", " degree", "°", " °c", " degrees celsius",
                          " degrees fahrenheit", " fahrenheit", " celsius", " c", " f", " degrees c", " degrees f"])
    return s + unit


def color_temp_value() -> str:
    r = random.random()
    if r < 0.5:
        return random.choice(COLOR_TEMP_NAMES)
    n = random.choice([2000, 2200, 2500, 2700, 3000, 3500, 4000, 4500, 5000, 5500, 6000, 6500])
    s = number(n, 0.2)
    return s + random.choice([" kelvin", " k", "k", " kelvin", " degrees kelvin"])


COLOR_TEMP_NAMES = ["warm white", "warm", "cool white", "cold white", "daylight", "day light", "candle light",
                    "candlelight", "soft white", "natural white", "neutral white", "bright white", "warm light",
                    "cool light", "cooler white", "warmer white", "cozy warm"]

def _colors() -> list[str]:
    multi = ["sky blue", "light blue", "dark blue", "navy blue", "royal blue", "deep sky blue", "dark green",
             "light green", "forest green", "sea green", "lime green", "hot pink", "deep pink", "light pink",
             "dark red", "dark orange", "light yellow", "dark violet", "blue violet", "medium purple", "light coral",
             "spring green", "steel blue", "slate blue", "midnight blue", "dodger blue", "pale green",
             "lemon chiffon", "sandy brown", "dark magenta", "light cyan", "cornflower blue", "rebecca purple",
             "warm orange", "baby blue", "bright red", "deep purple", "dark purple", "light purple", "pale yellow"]
    single = ("red green blue yellow orange purple pink violet cyan magenta teal turquoise lime gold golden indigo "
              "lavender maroon navy olive salmon coral crimson beige aqua azure brown chocolate fuchsia khaki orchid "
              "plum tomato amber mint peach firebrick sienna tan wheat silver white").split()
    return single + multi


COLORS = _colors()

AREAS = """kitchen|living room|lounge|den|kids room|kid's room|nursery|master bedroom|bedroom|guest bedroom|guest room|
garage|porch|front porch|back porch|patio|attic|basement|cellar|hallway|hall|entrance|entryway|foyer|office|home office|
study|bathroom|master bathroom|downstairs bathroom|toilet|loo|laundry room|laundry|utility room|dining room|family room|
playroom|game room|media room|tv room|cinema room|library|garden|back garden|front garden|backyard|back yard|front yard|
yard|driveway|deck|balcony|terrace|conservatory|sunroom|pantry|closet|walk in closet|wardrobe|gym|workshop|shed|
landing|staircase|stairs|upstairs hallway|downstairs hall|emma's room|jack's room|sophie's bedroom|
the boys room|girls room|baby room|teen room|mudroom|mud room|guest bathroom|ensuite|en suite|spare room|spare bedroom|
second bedroom|third bedroom|bedroom two|bedroom 2|loft|studio|music room|reading nook|breakfast nook|craft room|
sewing room|wine cellar|pool house|pool|hot tub area|greenhouse|carport|side yard|front door area|back door area|
reception|lobby|corridor|living area|dining area|kitchenette|main bedroom|primary bedroom|parents room|granny flat|
annex|cabin|barn|boathouse|man cave|she shed|kids bathroom|powder room|upstairs|downstairs""".replace("\n", "").split("|")
AREAS = [a.strip() for a in AREAS if a.strip() and a.strip() not in ("upstairs", "downstairs")]

FLOORS = ["upstairs", "downstairs", "first floor", "second floor", "third floor", "ground floor", "top floor",
          "basement floor", "main floor", "lower floor", "upper floor", "1st floor", "2nd floor", "3rd floor",
          "attic floor", "lower level", "upper level", "main level", "ground level", "first level", "loft floor"]

_LIGHT_BASE = ["lamp", "light", "bulb", "lamp", "strip", "led strip", "spotlight", "spotlights", "ceiling light",
               "pendant", "chandelier", "floor lamp", "desk lamp", "table lamp", "reading lamp", "bedside lamp",
               "night light", "nightlight", "light strip", "downlights", "sconce", "wall light", "uplighter",
               "fairy lights", "string lights", "lantern", "light bar", "globe", "lightbulb", "torch lamp",
               "accent light", "under cabinet lights", "cabinet lights", "mirror light", "vanity light",
               "porch light", "flood light", "floodlight", "path lights", "christmas lights", "tree lights"]
_BRANDS = ["hue", "hue go", "hue play", "ikea", "ikea bulb", "tradfri", "lifx", "wiz", "govee", "nanoleaf",
           "yeelight", "osram", "sengled", "tapo", "kasa", "shelly", "sonoff", "meross", "aqara", "tuya", "lutron",
           "philips", "innr", "ledvance", "wyze", "eufy", "nest", "ecobee", "sonos", "roku", "chromecast",
           "echo", "alexa", "tado", "netatmo", "dyson", "xiaomi", "roborock", "roomba", "neato", "bose"]
_OWNERS = ["emma's", "jack's", "mom's", "dad's", "grandma's", "the kids'", "sophie's", "noah's", "liam's", "olivia's",
           "my", "our", "baby's", "guest", "the dog's", "max's", "lily's", "ben's", "anna's", "tom's"]
_MODS = ["left", "right", "big", "small", "little", "corner", "window", "sofa", "couch", "bed", "desk", "shelf",
         "bookshelf", "tv", "piano", "mirror", "front", "back", "side", "main", "round", "tall", "blue", "red",
         "green", "white", "old", "new", "wooden", "glass", "paper", "salt", "moon", "star", "lava", "globe",
         "arc", "tripod", "crystal", "brass", "retro", "vintage", "nordic", "japanese", "rattan", "bamboo"]

_SWITCH_BASE = ["coffee machine", "coffee maker", "espresso machine", "kettle", "toaster", "tv", "television",
                "smart plug", "plug", "socket", "outlet", "power strip", "heater", "space heater", "dehumidifier",
                "humidifier", "air purifier", "purifier", "fountain", "pump", "pool pump", "sprinkler", "sprinklers",
                "irrigation", "water heater", "boiler", "electric blanket", "heated blanket", "towel rail",
                "printer", "computer", "monitor", "router", "modem", "christmas tree", "aquarium", "fish tank",
                "washing machine", "dryer", "dishwasher", "oven", "microwave", "air fryer", "slow cooker",
                "rice cooker", "fridge", "freezer", "wine fridge", "ice maker", "soundbar", "stereo", "amplifier",
                "projector", "game console", "playstation", "xbox", "charger", "ev charger", "car charger",
                "doorbell", "camera", "security camera", "alarm", "siren", "fireplace", "sauna", "hot tub",
                "jacuzzi", "towel warmer", "radiator", "diffuser", "oil diffuser", "salt lamp", "bubble machine",
                "disco ball", "massage chair", "treadmill", "exercise bike", "baby monitor", "white noise machine",
                "sound machine", "mosquito killer", "bug zapper", "pond pump", "fountain pump", "heat lamp",
                "extractor fan", "ventilation", "hood", "cooker hood", "range hood", "garden lights", "fan heater"]
_FAN_BASE = ["fan", "ceiling fan", "desk fan", "tower fan", "pedestal fan", "box fan", "standing fan", "floor fan",
             "extractor fan", "exhaust fan", "attic fan", "bathroom fan", "dyson fan", "air circulator",
             "ventilator", "window fan", "table fan", "bladeless fan", "mistral fan", "breeze"]
_COVER_BASE = ["blinds", "blind", "curtains", "curtain", "shades", "shade", "shutters", "shutter", "roller blind",
               "roller shutter", "garage door", "gate", "front gate", "driveway gate", "awning", "skylight",
               "roof window", "velux", "window", "sunshade", "drapes", "venetian blinds", "garage", "side gate",
               "screen", "projector screen", "pergola", "louvres", "canopy", "patio door"]
_LOCK_BASE = ["front door", "back door", "side door", "door lock", "lock", "deadbolt", "garage door lock",
              "patio door", "gate lock", "smart lock", "nuki", "yale lock", "august lock", "front door lock",
              "back door lock", "mailbox", "safe", "shed lock", "cat flap", "pet door", "storm door", "main door",
              "entrance door", "french doors", "basement door", "garden gate"]
_MEDIA_BASE = ["tv", "television", "speaker", "sonos", "echo", "echo dot", "homepod", "google home", "nest mini",
               "nest hub", "chromecast", "apple tv", "fire tv", "fire stick", "roku", "shield", "soundbar",
               "stereo", "radio", "record player", "spotify", "music", "media player", "kodi", "plex", "jellyfin",
               "receiver", "av receiver", "amp", "jukebox", "boombox", "subwoofer", "surround sound", "smart tv",
               "samsung tv", "lg tv", "sony tv", "bose speaker", "jbl speaker", "kitchen radio", "ipod dock",
               "playstation", "xbox", "projector", "youtube", "netflix"]
_CLIMATE_BASE = ["thermostat", "heating", "air conditioner", "ac", "a/c", "air con", "heat pump", "radiator",
                 "boiler", "furnace", "hvac", "mini split", "split unit", "underfloor heating", "floor heating",
                 "nest", "ecobee", "tado", "hive", "climate", "heater", "aircon", "cooler", "trv"]
_VACUUM_BASE = ["vacuum", "robot vacuum", "roomba", "roborock", "robot", "hoover", "vacuum cleaner", "deebot",
                "eufy", "neato", "dreame", "the robot", "mopper", "mop", "robovac", "dusty", "rosie", "wall-e",
                "sweepy", "robbie", "henry", "dyson", "botvac", "braava", "conga", "lefant"]
_SCENES = ["movie night", "movie time", "good night", "goodnight", "good morning", "romantic", "romance", "dinner",
           "dinner time", "reading", "relax", "relaxing", "party", "party mode", "bedtime", "wake up", "morning",
           "evening", "night mode", "away", "away mode", "home", "welcome home", "cinema", "tv time", "gaming",
           "focus", "concentrate", "energize", "chill", "chill out", "sunset", "sunrise", "cozy", "date night",
           "christmas", "halloween", "holiday", "vacation mode", "bright", "dimmed", "nightlight", "lunch",
           "breakfast", "cooking", "cleaning", "all off", "leaving home", "arrive home", "guest mode", "kids bedtime",
           "story time", "yoga", "workout", "meditation", "spa", "bath time", "study time", "work mode",
           "netflix and chill", "disco", "rainbow", "ocean", "forest", "arctic aurora", "tropical twilight",
           "savanna sunset", "spring blossom", "concentration", "read", "nightfall", "dusk", "midnight"]
_SCRIPTS = ["morning routine", "bedtime routine", "evening routine", "leave home", "i'm home", "goodbye",
            "feed the cat", "feed the fish", "water the plants", "start coffee", "make coffee", "warm up the car",
            "lock up", "lockdown", "panic", "alarm", "doorbell chime", "open the house", "close the house",
            "all lights off", "party", "vacation", "school run", "dinner ready", "wake the kids", "air the house",
            "boost heating", "boost hot water", "hot water", "guest arrival", "night routine", "sunset routine"]

TODO_LISTS = ["to do", "todo", "to-do",
              "chores", "chore", "tasks", "task", "work", "work tasks", "home", "household", "hardware store",
              "costco", "target", "walmart", "aldi", "lidl", "tesco", "pharmacy", "party", "christmas", "gift",
              "gifts", "birthday", "packing", "camping", "holiday", "vacation", "books", "reading", "movies",
              "watch", "wish", "wishlist", "bucket", "garden", "diy", "repair", "errands", "weekend", "school",
              "homework", "kids", "baby", "pet", "dog", "bills", "reminders", "ideas", "projects", "renovation",
              "moving", "meal plan", "recipes", "bbq", "picnic", "travel", "business", "office", "family"]

GROCERIES = """milk|eggs|bread|butter|cheese|apples|bananas|oranges|tomatoes|potatoes|onions|garlic|rice|pasta|flour|
sugar|salt|pepper|olive oil|coffee|tea|orange juice|apple juice|yogurt|yoghurt|cereal|oats|oatmeal|honey|jam|
peanut butter|chicken|chicken breasts|beef|ground beef|mince|pork chops|bacon|ham|sausages|salmon|tuna|shrimp|
prawns|lettuce|spinach|carrots|broccoli|cucumber|peppers|bell peppers|mushrooms|avocados|lemons|limes|grapes|
strawberries|blueberries|raspberries|watermelon|pineapple|mango|celery|zucchini|courgettes|aubergine|eggplant|
corn|beans|baked beans|chickpeas|lentils|tofu|soy sauce|ketchup|mustard|mayonnaise|mayo|vinegar|baking soda|
baking powder|yeast|chocolate|dark chocolate|cookies|biscuits|crackers|chips|crisps|popcorn|nuts|almonds|walnuts|
ice cream|frozen peas|frozen pizza|pizza|tortillas|wraps|bagels|croissants|muffins|cake|cream|sour cream|
whipped cream|cream cheese|mozzarella|cheddar|parmesan|feta|toilet paper|paper towels|kitchen roll|tissues|
dish soap|washing up liquid|laundry detergent|fabric softener|bleach|sponges|trash bags|bin bags|aluminum foil|
cling film|batteries|light bulbs|toothpaste|toothbrush|shampoo|conditioner|soap|hand soap|deodorant|razors|
shaving cream|sunscreen|cat food|dog food|cat litter|kitty litter|dog treats|bird seed|diapers|nappies|baby wipes|
wipes|formula|water|sparkling water|soda|coke|diet coke|beer|wine|red wine|white wine|champagne|vodka|gin|
sparkling wine|lemonade|almond milk|oat milk|soy milk|coconut milk|canned tomatoes|tomato paste|stock cubes|
chicken stock|noodles|ramen|spaghetti|penne|lasagne sheets|quinoa|couscous|granola|maple syrup|cinnamon|paprika|
cumin|basil|oregano|thyme|rosemary|parsley|coriander|cilantro|ginger|chili flakes|hot sauce|salsa|hummus|
olives|pickles|capers|anchovies|sardines|smoked salmon|turkey|lamb|steak|chicken wings|hot dogs|burger buns|
hamburger buns|rolls|sourdough|whole wheat bread|gluten free bread|rice cakes|energy drinks|vitamins|aspirin|
painkillers|ibuprofen|plasters|band aids|cotton buds|matches|candles|birthday candles|napkins|paper plates|
plastic cups|straws|ice|charcoal|lighter fluid|flowers|a birthday card|wrapping paper|two pints of milk|
a dozen eggs|six eggs|a loaf of bread|2 liters of milk|a bag of rice|a bottle of wine|three apples|some bananas|
a pack of butter|500 grams of mince|a kilo of potatoes|organic milk|free range eggs|greek yogurt|brown sugar|
icing sugar|vanilla extract|cocoa powder|sprinkles|food colouring""".replace("\n", "").split("|")

TASKS = """call the plumber|call mom|call the dentist|book a dentist appointment|pay the electricity bill|
pay rent|renew car insurance|take out the trash|take the bins out|clean the garage|mow the lawn|water the plants|
fix the leaking tap|fix the fence|change the light bulb in the hall|buy a birthday present for sara|
send the invoice|email the landlord|pick up dry cleaning|pick up the kids at five|walk the dog|vacuum the stairs|
do the laundry|clean the bathroom|defrost the freezer|book flights to rome|renew passport|schedule car service|
get a haircut|return library books|cancel gym membership|file taxes|back up the laptop|update the router|
clean the gutters|paint the fence|order new filters|replace smoke alarm batteries|descale the kettle|
prepare the presentation|finish the report|reply to john|buy stamps|post the letter|wrap presents|
plan the party|order a cake|check the tyre pressure|wash the car|clean the windows|iron shirts|feed the fish|
vet appointment for the cat|book a table for friday|call the bank|organize the closet|sort the recycling|
charge the drill|clean the oven|dust the shelves|change the bed sheets|bake cookies|pick up prescription|
make a doctor appointment|read chapter five|practice piano|study for the exam|homework|meal prep|
buy new shoes|fix the bike|pump the bike tires|oil the hinges|clear the attic|donate old clothes|
sell the old sofa|review the contract|sign the permission slip|pay the nanny|transfer money to savings|
check the smoke detectors|book the hotel|pack the suitcase|water the garden|trim the hedge|rake the leaves""".replace("\n", "").split("|")

TIMER_NAMES = ["pizza", "pasta", "egg", "eggs", "oven", "cookie", "cookies", "cake", "bread", "laundry", "tea",
               "nap", "homework", "workout", "study", "meditation", "kitchen", "rice", "turkey", "roast", "chicken",
               "potato", "steak", "brownies", "muffins", "bath", "screen time", "reading", "break", "coffee",
               "cooking", "dinner", "lunch", "parking", "meeting", "plank", "stretching", "yoga", "tooth brushing",
               "teeth", "timeout", "piano practice", "dog", "sauna", "soup", "noodles", "baby", "bottle"]

DURATION_UNITS = {"h": ["hour", "hours", "hr", "hrs"], "m": ["minute", "minutes", "min", "mins"],
                  "s": ["second", "seconds", "sec", "secs"]}


def _unit(n: int, unit: str) -> str:
    word = {"h": "hour", "m": "minute", "s": "second"}[unit]
    if random.random() < 0.06:
        word = {"h": "hr", "m": "min", "s": "sec"}[unit]
    return word if n == 1 and random.random() < 0.9 else word + "s"


def duration_value() -> str:
    r = random.random()
    if r < 0.4:
        n = random.choice([1, 2, 3, 4, 5, 5, 6, 7, 8, 10, 10, 12, 15, 15, 20, 20, 25, 30, 30, 40, 45, 45, 50, 60, 90,
                           random.randint(1, 120)])
        s = number(n, 0.4)
        if n == 1 and random.random() < 0.5:
            s = random.choice(["one", "a", "1"])
        return f"{s} {_unit(n, 'm')}"
    if r < 0.52:
        n = random.choice([1, 2, 3, 4, 1, 2, 5, 8, 12, 24])
        s = number(n, 0.4)
        if n == 1 and random.random() < 0.6:
            s = random.choice(["an", "one", "1"])
        return f"{s} {_unit(n, 'h')}"
    if r < 0.64:
        n = random.choice([5, 10, 15, 20, 30, 40, 45, 60, 90, 100, 120, random.randint(1, 300)])
        return f"{number(n, 0.4)} {_unit(n, 's')}"
    if r < 0.74:
        choices = ["an hour and a half", "a half hour", "half an hour", "a quarter of an hour", "quarter of an hour",
                   "one and a half hours", "1 and a half hours", "two and a half hours", "2 and a half hours",
                   "a minute and a half", "one and a half minutes", "two and a half minutes", "three and a half minutes",
                   "an hour and a half", "half a minute", "half an hour", "a couple of minutes", "a couple minutes",
                   "a few minutes", "a couple of hours", "1.5 hours", "2.5 minutes", "one and a half hours",
                   "an hour and 15 minutes", "a minute", "an hour", "a second", "a day", "ninety minutes"]
        return random.choice(choices)
    # compound
    h = random.randint(1, 3)
    m = random.choice([5, 10, 15, 20, 25, 30, 40, 45, random.randint(1, 59)])
    s = random.choice([10, 15, 20, 30, 45, random.randint(1, 59)])
    hs = "an" if h == 1 and random.random() < 0.4 else number(h, 0.4)
    joiner = random.choice([" and ", " ", " and ", ", "])
    kind = random.random()
    if kind < 0.5:
        return f"{hs} {_unit(h, 'h')}{joiner}{number(m, 0.4)} {_unit(m, 'm')}"
    mm = random.randint(1, 20)
    if kind < 0.9:
        ms = "a" if mm == 1 and random.random() < 0.5 else number(mm, 0.4)
        return f"{ms} {_unit(mm, 'm')}{joiner}{number(s, 0.4)} {_unit(s, 's')}"
    return (f"{hs} {_unit(h, 'h')} {number(m, 0.4)} {_unit(m, 'm')} and "
            f"{number(s, 0.4)} {_unit(s, 's')}")


def step_pct() -> str:
    n = random.choice([5, 10, 10, 15, 20, 20, 25, 30, 40, 50, random.randint(1, 60)])
    s = number(n, 0.3)
    return "by " + s + random.choice([" percent", "%", " percent", " per cent", "", " points", " pct"])


def step_deg() -> str:
    n = random.choice([1, 1, 2, 2, 3, 4, 5, 0.5])
    if n == 0.5:
        s = random.choice(["half a degree", "0.5 degrees", "point five degrees", "a half degree"])
        return "by " + s
    s = number(int(n), 0.5)
    if n == 1 and random.random() < 0.5:
        s = random.choice(["one", "a", "1"])
    unit = random.choice([" degrees", " degree" if n == 1 else " degrees", "", " degrees celsius", " °", " deg",
                          " degrees fahrenheit", " more degrees"])
    return "by " + s + unit


def step_vol() -> str:
    r = random.random()
    if r < 0.6:
        return step_pct()
    n = random.randint(1, 10)
    return "by " + number(n, 0.5) + random.choice(["", " steps", " notches", " points", " levels", " step" if n == 1 else " steps"])


def _compose(base: list[str], prefixes: list[str], p: float) -> str:
    b = random.choice(base)
    if random.random() < p:
        return random.choice(prefixes) + " " + b
    return b


def light_name() -> str:
    r = random.random()
    if r < 0.3:
        return random.choice(AREAS) + " " + random.choice(_LIGHT_BASE)
    if r < 0.45:
        return random.choice(_OWNERS) + " " + random.choice(_LIGHT_BASE)
    if r < 0.6:
        return random.choice(_BRANDS[:20]) + " " + random.choice(["", "lamp ", "bulb ", "light "]).strip() + random.choice(["", " 1", " 2", " go", " play"])
    if r < 0.85:
        return random.choice(_MODS) + " " + random.choice(_LIGHT_BASE)
    return random.choice(_LIGHT_BASE + ["lava lamp", "salt lamp", "moon lamp", "star projector", "neon sign",
                                        "aquarium light", "grow light", "grow lights", "xmas lights", "hue go",
                                        "ikea bulb", "nanoleaf panels", "govee strip", "wled", "ambilight"])


def switch_name() -> str:
    r = random.random()
    if r < 0.25:
        return random.choice(AREAS) + " " + random.choice(_SWITCH_BASE)
    if r < 0.35:
        return random.choice(_OWNERS) + " " + random.choice(_SWITCH_BASE)
    if r < 0.45:
        return random.choice(_BRANDS) + " " + random.choice(["plug", "switch", "socket", "outlet"])
    return random.choice(_SWITCH_BASE)


def fan_name() -> str:
    r = random.random()
    if r < 0.4:
        return random.choice(AREAS) + " " + random.choice(_FAN_BASE)
    if r < 0.5:
        return random.choice(_OWNERS) + " fan"
    return random.choice(_FAN_BASE)


def cover_name() -> str:
    r = random.random()
    if r < 0.45:
        return random.choice(AREAS) + " " + random.choice(_COVER_BASE)
    if r < 0.6:
        return random.choice(["left", "right", "front", "back", "big", "small", "east", "west", "north", "south",
                              "bay window", "main", "side", "patio", "skylight", "velux", "somfy"]) + " " + random.choice(_COVER_BASE)
    return random.choice(_COVER_BASE)


def lock_name() -> str:
    r = random.random()
    if r < 0.25:
        return random.choice(AREAS) + " " + random.choice(["door", "lock", "door lock", "window"])
    return random.choice(_LOCK_BASE)


def media_name() -> str:
    r = random.random()
    if r < 0.4:
        return random.choice(AREAS) + " " + random.choice(_MEDIA_BASE)
    if r < 0.5:
        return random.choice(_OWNERS) + " " + random.choice(["speaker", "tv", "echo", "radio", "ipad", "sonos"])
    return random.choice(_MEDIA_BASE)


def climate_name() -> str:
    r = random.random()
    if r < 0.45:
        return random.choice(AREAS) + " " + random.choice(_CLIMATE_BASE)
    return random.choice(_CLIMATE_BASE)


def vacuum_name() -> str:
    r = random.random()
    if r < 0.2:
        return random.choice(AREAS) + " " + random.choice(["vacuum", "robot", "roomba"])
    return random.choice(_VACUUM_BASE)


def scene_name() -> str:
    return random.choice(_SCENES)


def script_name() -> str:
    return random.choice(_SCRIPTS)


def any_name() -> str:
    return random.choice([light_name, switch_name, fan_name, cover_name, lock_name, media_name, climate_name,
                          light_name, switch_name])()


def sensor_name() -> str:
    base = ["motion sensor", "door sensor", "window sensor", "smoke detector", "leak sensor", "water sensor",
            "presence sensor", "occupancy sensor", "contact sensor", "temperature sensor", "humidity sensor",
            "mailbox sensor", "doorbell", "alarm", "alarm system", "car", "dishwasher", "washing machine", "dryer"]
    if random.random() < 0.4:
        return random.choice(AREAS) + " " + random.choice(base)
    return random.choice(base)


def item_value() -> str:
    return random.choice(GROCERIES) if random.random() < 0.7 else random.choice(TASKS)


def todo_list_name() -> str:
    return random.choice(TODO_LISTS)


def timer_name() -> str:
    return random.choice(TIMER_NAMES)


NAME_BY_DOMAIN = {
    "light": light_name, "switch": switch_name, "fan": fan_name, "cover": cover_name, "lock": lock_name,
    "media_player": media_name, "climate": climate_name, "vacuum": vacuum_name, "scene": scene_name,
    "script": script_name, "binary_sensor": sensor_name, "sensor": sensor_name, "valve": lambda: random.choice(
        ["water valve", "main valve", "garden valve", "sprinkler valve", "gas valve", "irrigation valve",
         "water main", "hose", "garden hose"]),
    "todo": todo_list_name, "weather": lambda: random.choice(["home", "forecast", "weather station", "met office",
                                                               "london", "paris", "berlin", "the cabin", "work"]),
}


# Words naming a device *type*, not a device: never tagged (the runtime infers the domain from them).
TYPE_WORDS = {
    "light", "lights", "lamp", "lamps", "bulb", "bulbs", "lighting", "lightbulb", "lightbulbs", "ceiling light",
    "ceiling lights", "fan", "fans", "ceiling fan", "blind", "blinds", "curtain", "curtains", "shade", "shades",
    "shutter", "shutters", "awning", "garage door", "garage", "gate", "window", "windows", "door", "doors",
    "thermostat", "heating", "heater", "ac", "a/c", "air con", "aircon", "air conditioner", "air conditioning",
    "climate", "heat pump", "radiator", "boiler", "furnace", "hvac", "lock", "locks", "vacuum", "robot vacuum",
    "vacuum cleaner", "robot", "the robot", "hoover", "tv", "television", "speaker", "speakers", "music",
    "media player", "radio", "switch", "plug", "socket", "outlet", "smart plug", "drapes", "roller blind",
    "roller shutter", "sunshade", "screen", "valve", "water valve", "sensor", "cooler", "mop", "mopper",
}


def _no_type(gen):
    area_type = {f"{a} {t}" for a in AREAS for t in TYPE_WORDS}

    def g() -> str:
        for _ in range(20):
            v = gen()
            if v not in TYPE_WORDS and v not in area_type:
                return v
        return v

    return g


light_name = _no_type(light_name)
switch_name = _no_type(switch_name)
fan_name = _no_type(fan_name)
cover_name = _no_type(cover_name)
lock_name = _no_type(lock_name)
media_name = _no_type(media_name)
climate_name = _no_type(climate_name)
vacuum_name = _no_type(vacuum_name)
for _k, _f in list(NAME_BY_DOMAIN.items()):
    NAME_BY_DOMAIN[_k] = _no_type(_f)


MESSAGES = """dinner is ready|lunch is ready|breakfast is ready|we're leaving in five minutes|time to go|the taxi is here|
bedtime in ten minutes|it's time for bed|come downstairs please|grandma is here|the movie is starting|
please turn your music down|homework time|the car is warming up|someone is at the door|the pizza has arrived|
wash your hands for dinner|it's snowing outside|we're going to the park|family meeting in the kitchen|
time to get up|the bath is ready|shoes on, we're late|has anyone seen my keys|the guests are arriving|
I'm home|I'll be back in an hour|the cake is out of the oven|turn off the video games|tea is ready""".split("|")
MESSAGES = [m.strip() for m in MESSAGES if m.strip()]

QUERIES = """jazz|some jazz|classical music|the beatles|taylor swift|rumours|abbey road|lo-fi beats|the news|
bbc radio 4|my discover weekly|relaxing music|christmas songs|serial|the daily|stranger things|frozen|
bohemian rhapsody|queen|miles davis|kind of blue|rock music|something upbeat|white noise|rain sounds|
the lion king soundtrack|coldplay|ed sheeran|beyonce|hamilton|my workout playlist|90s hits|country music|
the morning show|planet earth|radiohead|ok computer|a podcast about history|chill vibes|dinner party mix""".split("|")
QUERIES = [q.strip() for q in QUERIES if q.strip()]


def message_value() -> str:
    return random.choice(MESSAGES)


def query_value() -> str:
    return random.choice(QUERIES)

BUTTONS = ["restart router", "router restart", "doorbell chime", "doorbell", "garage button", "reboot modem",
           "modem reboot", "identify", "reset filter", "filter reset", "descale", "test siren", "gate opener",
           "chime", "panic button", "scene button", "restart", "update button"]
ALARMS = ["alarm", "house alarm", "security system", "burglar alarm", "alarm system", "home security",
          "security alarm", "alarm panel", "perimeter alarm", "garage alarm"]
MODES = ["guest mode", "vacation mode", "party mode", "away mode", "night mode", "holiday mode", "quiet mode",
         "do not disturb", "sleep mode", "eco mode", "movie mode switch", "kids mode", "cleaning mode"]
