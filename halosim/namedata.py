"""Word lists the tenant generator draws realistic Australian company names, people and addresses from."""

SURNAMES = (
    "Anderson Baker Barnes Bell Bennett Brooks Campbell Carter Chen Clarke Collins Cooper Davies Dawson Edwards Ellis "
    "Evans Fisher Fletcher Foster Gibson Graham Grant Hall Harris Harrison Hayes Henderson Hughes Hunt Jackson James "
    "Jensen Johnson Kelly Kennedy Khan King Knight Lam Lee Lewis Lim Marshall Martin Mason Mitchell Moore Morgan "
    "Murphy Murray Nguyen Nolan O'Brien O'Connor Owen Palmer Parker Patel Pearce Phillips Price Quinn Reid Reynolds "
    "Richards Roberts Robinson Rossi Russell Ryan Scott Shaw Simpson Singh Smith Stewart Sullivan Taylor Thompson "
    "Tran Turner Walker Walsh Ward Watson Webb White Williams Wilson Wong Wood Wright Young Zhang"
).split()

FIRST_NAMES = (
    "Aaron Adam Aisha Alex Amelia Andrew Angela Anh Ben Bianca Chloe Chris Claire Daniel David Deepa Emily Emma "
    "Fiona Grace Hannah Harry Isabella Jack James Jessica John Karen Kate Liam Lily Lucy Mark Matthew Mei Mia Michael "
    "Nathan Nicole Noah Olivia Peter Priya Rachel Raj Rebecca Ryan Sam Sarah Sophie Steve Thomas Tom Wei Zoe"
).split()

INDUSTRIES = (
    "Accounting Agriculture Architects Automotive Bakery Building Cabinetry Carpentry Catering Civil Cleaning "
    "Communications Concrete Constructions Consulting Dental Design Earthmoving Electrical Engineering Fabrication "
    "Fencing Finance Fitness Flooring Freight Glass Health Hospitality Imaging Insurance Interiors Joinery Landscaping "
    "Legal Logistics Machinery Marine Media Medical Mining Motors Networks Nursery Optical Packaging Painting Pharmacy "
    "Plumbing Print Property Realty Refrigeration Roofing Security Solar Steel Storage Surveying Systems Tiling "
    "Timber Transport Travel Veterinary Waste Water"
).split()

PLACES = (
    "Northside Southern Eastern Western Coastal Harbour Bayside Hills Valley Ridge Riverside Lakeside Metro Outback "
    "Pacific Tasman Coral Summit Highland Gateway Parkside Inland Central Capital Golden Redgum Ironbark Banksia "
    "Wattle Bluegum Kookaburra Southcross Sunrise Horizon Meridian Pinnacle Keystone Cornerstone Silverline"
).split()

ADJECTIVES = "Apex Bright Blue Clear Prime True Swift Smart Green Allied United Precision Quality Premier Total".split()
NOUNS = "Edge Point Line Path Wave Stone Bridge Field Star Peak Link Works Source Core Way".split()

FORMS = ("Pty Ltd", "Pty Ltd", "Pty Ltd", "Pty. Ltd.", "Ltd", "Group", "Holdings", "Co", "", "", "Services", "Partners")

STREETS = (
    "George Pitt Elizabeth Collins Queen King William Victoria Albert Church High Main Station Railway Park Bridge "
    "Market Mill Smith Wellington Bourke Flinders Hunter Macquarie Oxford Pacific Princes Anzac Beach Ocean Forest "
    "Hill Grey Stirling Murray Darling Lonsdale Spencer Adelaide Brunswick Chapel Commercial Industrial Enterprise"
).split()
STREET_TYPES = ("Street", "Street", "Street", "Road", "Road", "Avenue", "Parade", "Highway", "Lane", "Drive")
LINE2_CHOICES = ("Suite 4", "Level 2", "Unit 7", "Building B", "Shop 3", "Level 11", "Suite 1201", "Ground Floor")

# (city, state, postcode, area code)
CITIES = (
    ("Sydney", "NSW", "2000", "02"),
    ("Parramatta", "NSW", "2150", "02"),
    ("Newcastle", "NSW", "2300", "02"),
    ("Wollongong", "NSW", "2500", "02"),
    ("Penrith", "NSW", "2750", "02"),
    ("Melbourne", "VIC", "3000", "03"),
    ("Geelong", "VIC", "3220", "03"),
    ("Ballarat", "VIC", "3350", "03"),
    ("Dandenong", "VIC", "3175", "03"),
    ("Brisbane", "QLD", "4000", "07"),
    ("Gold Coast", "QLD", "4217", "07"),
    ("Townsville", "QLD", "4810", "07"),
    ("Toowoomba", "QLD", "4350", "07"),
    ("Adelaide", "SA", "5000", "08"),
    ("Mount Gambier", "SA", "5290", "08"),
    ("Perth", "WA", "6000", "08"),
    ("Fremantle", "WA", "6160", "08"),
    ("Hobart", "TAS", "7000", "03"),
    ("Launceston", "TAS", "7250", "03"),
    ("Darwin", "NT", "0800", "08"),
    ("Canberra", "ACT", "2600", "02"),
)
TIMEZONE_BY_STATE = {"QLD": 2, "SA": 3, "NT": 3, "WA": 4}  # option ids of CFTimezone; others are Sydney (1)

SITE_NAMES = ("Warehouse", "Depot", "Workshop", "Store", "Branch", "Yard", "Clinic", "Office", "Distribution Centre")
ACCOUNT_MANAGERS = ("Jess Taylor", "Marco Rossi", "Priya Singh", "Tom Nguyen", "Claire Walsh")
MAILBOXES = ("accounts", "accounts", "ap", "billing", "finance", "invoices", "admin")
CC_MAILBOXES = ("director", "owner", "office", "operations", "manager", "payables")
