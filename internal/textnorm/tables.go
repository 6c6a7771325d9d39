package textnorm

// The tables below are generic vocabulary of names in many languages:
// titles, company legal forms and particles. None of them is taken from a
// sanctions list; each entry is written in folded form (see Fold).

// honorificPhrases are titles and forms of address. They are recognised
// only at the start of a name, where they are dropped from matching but
// kept for the explanation. Words that are also common given names (Hafiz,
// Sayyid, Amir, Sultan, Don) are deliberately absent.
var honorificPhrases = []string{
	"mr", "mrs", "ms", "miss", "mister", "mx", "dr", "doctor", "prof", "professor",
	"sheikh", "shaikh", "shaykh", "sheik", "shaik", "sheikha", "shaikha", "shaykha",
	"haji", "hajji", "hadji", "hajj", "al haj", "al hajj", "alhaj", "alhajj", "el hadj", "el hadji",
	"general", "gen", "lieutenant general", "lt gen", "major general", "maj gen", "brigadier general", "brig gen",
	"colonel", "col", "lieutenant colonel", "lt col", "lieutenant", "lt", "major", "maj",
	"captain", "capt", "cpt", "admiral", "adm", "vice admiral", "rear admiral", "brigadier", "brig",
	"commander", "cmdr", "sergeant", "sgt", "marshal", "field marshal", "corporal", "cpl",
	"sir", "dame", "lord", "lady", "madame", "mme", "mademoiselle", "mlle", "monsieur",
	"herr", "frau", "senor", "senora", "sr", "sra", "srta", "dona",
	"eng", "engr", "engineer", "ing", "he", "his excellency", "her excellency", "excellency",
	"hon", "honorable", "honourable", "the honourable", "the honorable",
	"rev", "reverend", "father", "fr", "imam", "mullah", "mulla", "mawlawi", "maulvi", "molvi",
	"maulana", "mawlana", "qari", "ayatollah", "ayatullah", "hojatoleslam", "hojjat ol eslam", "mufti",
	"president", "minister", "judge", "justice", "ambassador", "senator", "governor",
	"sayyid", "sayyed", "sayed", "seyed", "seyyed", "syed",
}

// legalForms maps company legal forms, written out or abbreviated, to a
// code shared by equivalent forms: "limited liability company", "llc" and
// the Russian "ooo" all become "llc"; "joint stock company", "jsc", "ao",
// "oao", "pao", "zao" become "jsc"; "co ltd", "company limited" and
// "limited" become "ltd".
var legalForms = map[string]string{
	// Limited liability companies.
	"llc": "llc", "ooo": "llc", "limited liability company": "llc", "limited liability co": "llc",
	"limited liability partnership": "llp", "llp": "llp",
	"obshchestvo s ogranichennoi otvetstvennostyu": "llc", "obshchestvo s ogranichennoy otvetstvennostyu": "llc",
	"obshestvo s ogranichennoi otvetstvennostyu": "llc", "obshchestvo s ogranichennoi otvetstvennostiu": "llc",
	"tov": "llc", "tovarystvo z obmezhenoiu vidpovidalnistiu": "llc", "too": "llc", "mchj": "llc",
	"fz llc": "llc", "llc fz": "llc", "l l c": "llc", "ltd liability co": "llc", "ltd liability company": "llc",
	"limited liability company limited": "llc",
	// Joint stock companies.
	"jsc": "jsc", "ao": "jsc", "oao": "jsc", "zao": "jsc", "pao": "jsc", "ojsc": "jsc", "cjsc": "jsc", "pjsc": "jsc",
	"jsc co": "jsc", "joint stock company": "jsc", "joint stock co": "jsc", "open joint stock company": "jsc",
	"closed joint stock company": "jsc", "public joint stock company": "jsc", "private joint stock company": "jsc",
	"aktsionernoe obshchestvo": "jsc", "aktsionernoye obshchestvo": "jsc", "akcionernoe obshchestvo": "jsc",
	"publichnoe aktsionernoe obshchestvo": "jsc", "zakrytoe aktsionernoe obshchestvo": "jsc",
	"otkrytoe aktsionernoe obshchestvo": "jsc", "joint stock": "jsc", "jointstock company": "jsc",
	"pat": "jsc", "prat": "jsc", "vat": "jsc", "zat": "jsc",
	// Limited companies.
	"ltd": "ltd", "limited": "ltd", "co ltd": "ltd", "co limited": "ltd", "company limited": "ltd",
	"company ltd": "ltd", "limited company": "ltd", "ltd co": "ltd", "limited co": "ltd",
	"pte ltd": "ltd", "pte": "ltd", "private limited": "ltd", "pvt ltd": "ltd", "pvt": "ltd",
	"private ltd": "ltd", "pty ltd": "ltd", "pty": "ltd", "proprietary limited": "ltd",
	"sdn bhd": "ltd", "bhd": "ltd", "berhad": "ltd", "sendirian berhad": "ltd",
	"ltd sti": "ltd", "limited sirketi": "ltd", "ltd sirketi": "ltd", "limited sti": "ltd",
	"ltd co ltd": "ltd",
	// Companies in general.
	"co": "co", "company": "co", "cos": "co", "companies": "co", "cie": "co", "cia": "co",
	"inc": "inc", "incorporated": "inc", "corp": "corp", "corporation": "corp",
	"plc": "plc", "public limited company": "plc", "lp": "lp", "limited partnership": "lp",
	// Continental European and Latin American forms.
	"sa": "sa", "sociedad anonima": "sa", "societe anonyme": "sa", "sa de cv": "sa", "sa cv": "sa",
	"sapi de cv": "sa", "sab de cv": "sa", "s de rl de cv": "srl", "s de rl": "srl", "srl": "srl",
	"sociedad de responsabilidad limitada": "srl", "sarl": "srl", "sas": "sa", "sae": "sa", "sal": "sa",
	"spa": "sa", "sl": "srl", "slu": "srl", "sau": "sa", "sac": "sa", "saa": "sa", "ltda": "srl", "lda": "srl",
	"eirl": "srl", "ca": "sa", "sa de cv sofom": "sa", "sas de cv": "sa",
	"gmbh": "gmbh", "gesellschaft mit beschrankter haftung": "gmbh", "ag": "ag", "aktiengesellschaft": "ag",
	"kg": "kg", "gmbh and co kg": "gmbh", "gmbh co kg": "gmbh", "gmbh und co kg": "gmbh", "ohg": "kg",
	"bv": "bv", "nv": "nv", "as": "as", "asa": "as", "ab": "ab", "oy": "oy", "oyj": "oy", "aps": "aps",
	"anonim sirketi": "as", "a s": "as", "kft": "kft", "zrt": "kft", "nyrt": "kft", "sro": "sro", "spol s r o": "sro",
	"eood": "eood", "ood": "ood", "ead": "ead", "ad": "ad", "doo": "doo", "dooel": "doo", "d o o": "doo",
	"sp z o o": "doo", "sp zoo": "doo", "spzoo": "doo",
	// Middle East and Asia.
	"fze": "fze", "fzco": "fze", "fzc": "fze", "fzo": "fze", "fz": "fze", "free zone establishment": "fze",
	"free zone company": "fze", "dmcc": "fze", "wll": "wll", "spc": "spc", "psc": "psc", "pjs": "jsc",
	"limitada": "srl", "sociedad limitada": "srl", "compania limitada": "srl", "cia ltda": "srl",
	"compania": "co", "compagnie": "co", "societe": "co", "sirketi": "co", "ticaret limited sirketi": "ltd",
	"tbk": "tbk", "kk": "kk", "kabushiki kaisha": "kk", "yk": "kk", "pt": "pt", "cv": "cv",
	// Associations and non-profit companies (German e.V., UK CIC and CIO).
	"ev": "ev", "eingetragener verein": "ev", "cic": "cic", "community interest company": "cic", "cio": "cio",
	"ggmbh": "gmbh",
}

// ambiguousLegalForms are legal-form words that are also ordinary words or
// name parts ("co", "as", "ad", "pt", "sa"); they count as legal forms only
// in a run of legal forms at the start or end of a name.
var ambiguousLegalForms = map[string]bool{
	"co": true, "company": true, "as": true, "ad": true, "ag": true, "ab": true, "sa": true, "pt": true,
	"ao": true, "sl": true, "kg": true, "nv": true, "bv": true, "ca": true, "cv": true, "oy": true,
	"spa": true, "sal": true, "pat": true, "vat": true, "zat": true, "too": true, "ood": true, "ead": true,
	"fz": true, "cos": true, "cie": true, "cia": true, "kk": true, "yk": true, "tov": true, "lp": true,
	"sae": true, "sac": true, "saa": true, "sas": true, "pte": true, "pty": true, "pvt": true,
	"limited": false, "ltd": false,
}

// particles are words that join name parts or words of a company name
// (Arabic al/bin/ibn, Spanish de/del/y, Dutch van/der, German von, and
// "and", "of", "the"). They weigh little in matching.
var particles = map[string]bool{
	"al": true, "el": true, "ul": true, "bin": true, "ibn": true, "bint": true, "binti": true, "binte": true,
	"bn": true, "ould": true, "wuld": true, "ben": true,
	"de": true, "del": true, "della": true, "delle": true, "dei": true, "der": true, "den": true, "des": true,
	"di": true, "da": true, "do": true, "dos": true, "das": true, "du": true, "la": true, "le": true, "lo": true,
	"las": true, "los": true, "van": true, "von": true, "vom": true, "zu": true, "ter": true, "ten": true,
	"y": true, "e": true, "and": true, "of": true, "the": true, "for": true, "und": true, "et": true,
	"ve": true, "va": true, "fur": true, "en": true, "in": true, "on": true,
}

// weakLegalWords are words of legal forms that are also ordinary words
// ("public", "open"): outside a legal-form phrase they count as legal form
// words only next to another legal form word.
var weakLegalWords = map[string]bool{
	"public": true, "private": true, "open": true, "closed": true, "free": true, "zone": true,
	"establishment": true, "partnership": true, "proprietary": true, "ticaret": true,
}

// articleWords are articles that customers put before an organisation's
// name ("The Taliban", "Al Shabaab" for "SHABAAB"). "al", "el" and "le"
// count as articles only at the start of a name.
var articleWords = map[string]bool{
	"the": true, "a": true, "an": true,
}

// leadingArticles are articles only when they open a name.
var leadingArticles = map[string]bool{
	"al": true, "el": true, "le": true, "la": true, "les": true, "il": true, "ul": true,
}

// functionWords join the words of an organisation's name ("Islamic Jihad
// Movement in Palestine"); all of them are also particles.
var functionWords = map[string]bool{
	"of": true, "in": true, "for": true, "and": true, "on": true, "at": true, "de": true, "du": true, "des": true,
}

// descriptorWords are words organisations add to their name to say what
// kind of body they are, in English and in the common Latin spellings of
// their Arabic, Persian, Urdu, Turkish, Kurdish and Somali equivalents
// (folded: "jama'at" is "jamaat", "partî" is "parti").
var descriptorWords = map[string]bool{
	// English.
	"movement": true, "movements": true, "group": true, "groups": true, "organisation": true, "organization": true,
	"organisations": true, "organizations": true, "network": true, "front": true, "party": true, "brigade": true,
	"brigades": true, "battalion": true, "battalions": true, "foundation": true, "committee": true, "union": true,
	"association": true, "council": true, "league": true, "alliance": true, "faction": true, "coalition": true,
	"militia": true, "militias": true, "holding": true, "holdings": true, "army": true, "forces": true,
	"trust": true, "ngo": true, "munazzamat": true, "munazzama": true, "munazamat": true, "munadhamat": true,
	"munazzamah": true, "grubu": true, "grup": true, "gruppa": true, "gruppe": true, "groupe": true, "grupo": true, "mouvement": true,
	"movimiento": true, "organizasyonu": true, "teskilati": true, "vakfi": true, "dernegi": true,
	// Arabic (harakat: movement; jamaat/jamaah: group; hizb: party;
	// jabhat: front; kataib/katibat: brigades, battalion; liwa: brigade;
	// tanzim: organisation; majlis: council; ittihad: union).
	"harakat": true, "haraka": true, "harakah": true, "harakaat": true,
	"jamaat": true, "jamaah": true, "jamaa": true, "jamat": true, "jemaah": true, "jemaa": true,
	"jamiat": true, "jamiyat": true, "jamiyya": true, "jamiyyat": true,
	"hizb": true, "hezb": true, "hizbi": true, "jabhat": true, "jabha": true, "jabhah": true, "jebhe": true,
	"kataib": true, "kataeb": true, "katibat": true, "katiba": true, "katibah": true,
	"liwa": true, "liwaa": true, "tanzim": true, "tanzeem": true, "majlis": true, "majles": true,
	"ittihad": true, "ittehad": true, "ittihaad": true, "muassasat": true, "muassasa": true, "muassasah": true,
	"lajnat": true, "lajna": true, "lajnah": true, "rabita": true, "rabitat": true,
	// Persian and Urdu (sazman: organisation; tehreek: movement).
	"sazman": true, "sazeman": true, "sazmane": true, "tehreek": true, "tehrik": true, "tahrik": true, "tahreek": true,
	"bonyad": true, "jonbesh": true,
	// Turkish and Kurdish (hareket: movement; partiya/parti: party;
	// orgutu: organisation; cephe: front; tevgera: movement).
	"hareket": true, "hareketi": true, "partiya": true, "parti": true, "partisi": true, "orgutu": true,
	"cephe": true, "cephesi": true, "tevgera": true, "tevger": true, "rexistina": true,
	// Somali (xarakat/xarakada: movement; ururka: organisation;
	// jabhadda: front).
	"xarakat": true, "xarakada": true, "xarakaat": true, "ururka": true, "urur": true, "jabhadda": true,
}

// placeWords are regions, cities and territories that listed groups
// attach to their names ("Hezbollah Lebanon", "ISIS-Sinai Province"),
// besides the country names known to package country.
var placeWords = map[string]bool{
	"palestine": true, "sinai": true, "gaza": true, "khorasan": true, "khurasan": true, "levant": true,
	"sham": true, "iraq": true, "syria": true, "yemen": true, "afghanistan": true, "pakistan": true,
	"lebanon": true, "somalia": true, "sahel": true, "maghreb": true, "sahara": true, "kashmir": true,
	"punjab": true, "balochistan": true, "baluchistan": true, "waziristan": true, "caucasus": true,
	"chechnya": true, "dagestan": true, "mindanao": true, "beirut": true, "damascus": true, "baghdad": true,
	"mosul": true, "raqqa": true, "idlib": true, "aleppo": true, "tripoli": true, "benghazi": true,
	"mogadishu": true, "kabul": true, "kandahar": true, "peshawar": true, "karachi": true, "lahore": true,
	"tehran": true, "sanaa": true, "aden": true, "jerusalem": true, "hebron": true,
	"province": true, "wilayat": true, "wilayah": true, "vilayat": true, "region": true,
	"europe": true, "africa": true, "asia": true, "gulf": true, "uae": true, "usa": true, "uk": true,
	"dprk": true, "drc": true, "prc": true, "ksa": true, "mashhad": true, "isfahan": true, "tabriz": true, "shiraz": true,
	"qom": true, "sharjah": true, "ajman": true, "doha": true, "muscat": true, "moscow": true, "minsk": true,
	"caracas": true, "havana": true, "beijing": true, "shanghai": true, "dandong": true, "khartoum": true,
	// Capitals and large cities, mostly of the regions the lists cover.
	"london": true, "paris": true, "berlin": true, "madrid": true, "rome": true, "vienna": true, "brussels": true,
	"amsterdam": true, "geneva": true, "zurich": true, "athens": true, "sofia": true, "bucharest": true,
	"belgrade": true, "budapest": true, "prague": true, "warsaw": true, "kyiv": true, "kiev": true, "riga": true,
	"vilnius": true, "tallinn": true, "helsinki": true, "stockholm": true, "oslo": true, "copenhagen": true,
	"dublin": true, "lisbon": true, "milan": true, "hamburg": true, "frankfurt": true, "munich": true,
	"birmingham": true, "manchester": true, "ankara": true, "izmir": true, "gaziantep": true, "antalya": true,
	"mersin": true, "adana": true, "bursa": true, "baku": true, "tbilisi": true, "yerevan": true, "almaty": true,
	"tashkent": true, "bishkek": true, "dushanbe": true, "ashgabat": true, "amman": true, "riyadh": true,
	"jeddah": true, "mecca": true, "medina": true, "kuwait": true, "manama": true, "cairo": true,
	"alexandria": true, "basra": true, "erbil": true, "kirkuk": true, "fallujah": true, "homs": true,
	"latakia": true, "herat": true, "jalalabad": true, "quetta": true,
	"islamabad": true, "rawalpindi": true, "multan": true, "delhi": true, "mumbai": true, "kolkata": true,
	"dhaka": true, "chittagong": true, "colombo": true, "kathmandu": true, "yangon": true, "rangoon": true,
	"bangkok": true, "jakarta": true, "manila": true, "singapore": true,
	"dalian": true, "guangzhou": true, "shenzhen": true, "tianjin": true, "macau": true, "taipei": true,
	"seoul": true, "tokyo": true, "nampo": true, "sinuiju": true, "vladivostok": true, "novosibirsk": true,
	"tunis": true, "algiers": true, "rabat": true, "casablanca": true, "nouakchott": true, "bamako": true,
	"timbuktu": true, "niamey": true, "ouagadougou": true, "ndjamena": true, "maiduguri": true,
	"abuja": true, "lagos": true, "kano": true, "dakar": true, "accra": true, "kinshasa": true, "goma": true,
	"bangui": true, "juba": true, "nairobi": true, "mombasa": true, "kampala": true, "kigali": true,
	"asmara": true, "djibouti": true, "kismayo": true, "hargeisa": true,
	"bosaso": true, "harare": true, "lusaka": true, "maputo": true, "luanda": true, "johannesburg": true,
	"panama": true, "bogota": true, "medellin": true, "lima": true, "quito": true, "maracaibo": true,
	"managua": true, "tegucigalpa": true, "guatemala": true, "mexico": true, "tijuana": true, "culiacan": true,
	"guadalajara": true, "monterrey": true, "miami": true, "toronto": true,
	// Country spellings of the lists besides the English names
	// (package country's aliases).
	"turkey": true, "turkiye": true, "burma": true, "russia": true, "laos": true, "vietnam": true,
	"czechia": true, "macedonia": true, "eswatini": true, "swaziland": true, "kosovo": true, "zaire": true,
	"ussr": true, "yugoslavia": true, "byelorussia": true, "congo": true, "tanzania": true, "moldova": true,
	"dubai": true, "pyongyang": true, "bekaa": true, "derna": true, "borno": true, "istanbul": true,
	"international": true, "global": true, "worldwide": true,
}

// placePhrases are places of two or three words besides country names
// ("north korea" is one for package country).
var placePhrases = map[string]bool{
	"abu dhabi": true, "hong kong": true, "st petersburg": true, "saint petersburg": true,
	"ivory coast": true, "east timor": true, "timor leste": true, "cape verde": true, "cabo verde": true,
	"viet nam": true, "great britain": true, "soviet union": true, "north macedonia": true, "czech republic": true,
	"state of palestine": true, "cote d ivoire": true,
	"kuala lumpur": true, "addis ababa": true, "deir ez zor": true, "deir ezzor": true, "mazar i sharif": true,
	"mazar e sharif": true, "dar es salaam": true, "tel aviv": true, "ras al khaimah": true, "umm al quwain": true,
	"middle east": true, "new york": true, "north africa": true, "east africa": true, "west africa": true,
	"horn of africa": true, "south asia": true, "central asia": true, "south east asia": true,
	"southeast asia": true, "arabian peninsula": true, "persian gulf": true, "latin america": true,
	"west bank": true, "gaza strip": true, "islamic maghreb": true, "indian subcontinent": true,
}

// directionWords make a place of the place they precede ("South Lebanon").
var directionWords = map[string]bool{
	"north": true, "south": true, "east": true, "west": true, "central": true, "northern": true,
	"southern": true, "eastern": true, "western": true, "upper": true, "lower": true, "greater": true,
}

// commonNameWords are words so common in the names of ordinary, lawful
// businesses that sharing them says little about being the same body
// ("Global Trading LLC" and "TETON GLOBAL TRADING LIMITED"). Generic
// business vocabulary written by hand, not taken from a list.
var commonNameWords = map[string]bool{
	"global": true, "trading": true, "trade": true, "traders": true, "general": true, "international": true,
	"intl": true, "united": true, "national": true, "star": true, "golden": true, "gold": true, "new": true,
	"services": true, "service": true, "group": true, "holding": true, "holdings": true, "industries": true,
	"industrial": true, "industry": true, "energy": true, "enterprise": true, "enterprises": true,
	"commercial": true, "investment": true, "investments": true, "import": true, "export": true,
	"logistics": true, "shipping": true, "solutions": true, "consulting": true, "technology": true,
	"technologies": true, "tech": true, "systems": true, "management": true, "development": true,
	"capital": true, "partners": true, "resources": true, "supply": true, "supplies": true, "world": true,
	"first": true, "royal": true, "premier": true, "smart": true, "green": true, "blue": true, "red": true,
	"east": true, "west": true, "north": true, "south": true, "middle": true, "eastern": true, "western": true,
	"asia": true, "europe": true, "euro": true, "africa": true, "pacific": true, "atlantic": true,
	"construction": true, "engineering": true, "marine": true, "maritime": true, "transport": true,
	"finance": true, "financial": true, "bank": true, "insurance": true, "exchange": true, "money": true,
	"media": true, "network": true, "networks": true, "products": true, "goods": true, "electronics": true,
	"foods": true, "food": true, "medical": true, "pharma": true, "chemical": true, "chemicals": true,
	"oil": true, "gas": true, "petroleum": true, "metals": true, "steel": true, "mining": true, "agro": true,
	"real": true, "estate": true, "properties": true, "property": true, "travel": true, "tourism": true,
	"charity": true, "charitable": true, "relief": true, "aid": true, "humanitarian": true, "welfare": true,
	"islamic": true, "muslim": true, "christian": true, "center": true, "centre": true, "institute": true,
	"university": true, "school": true, "academy": true, "club": true, "sports": true, "society": true,
}

// CommonNameWord reports whether folded word w is common in ordinary
// businesses' names (see commonNameWords).
func CommonNameWord(w string) bool { return commonNameWords[w] }

// ezafeWords link a leading descriptor to the name ("Sazman-e", "Tehrik-i",
// "Harakat al-"): read as function words there.
var ezafeWords = map[string]bool{"e": true, "i": true, "ye": true, "ul": true, "al": true, "el": true, "ol": true}

// Ezafe reports whether w links a leading descriptor to the name.
func Ezafe(w string) bool { return ezafeWords[w] }

// demonyms are the adjectives of places that listed groups and customers
// put in names ("LEBANESE HEZBOLLAH", "Hezbollah Lebanon"; "Kurdish
// Workers Party", KURDISTAN WORKERS' PARTY): a word is read as its place,
// in listed names and queries alike, so that the two meet. Only
// adjectives that are not also common given names or surnames are here
// ("Afghan", "Saudi" and "Jordan" are).
var demonyms = map[string]string{
	"lebanese": "lebanon", "iraqi": "iraq",
	"syrian": "syria", "yemeni": "yemen", "yemenite": "yemen", "pakistani": "pakistan", "somali": "somalia",
	"iranian": "iran", "egyptian": "egypt", "libyan": "libya", "sudanese": "sudan", "kurdish": "kurdistan",
	"turkish": "turkey", "russian": "russia", "chinese": "china", "korean": "korea", "jordanian": "jordan",
	"kuwaiti": "kuwait", "qatari": "qatar", "bahraini": "bahrain", "omani": "oman", "tunisian": "tunisia",
	"algerian": "algeria", "moroccan": "morocco", "nigerian": "nigeria", "malian": "mali",
	"chechen": "chechnya", "filipino": "philippines", "indonesian": "indonesia", "malaysian": "malaysia",
	"belarusian": "belarus", "ukrainian": "ukraine", "cuban": "cuba", "venezuelan": "venezuela",
	"nicaraguan": "nicaragua", "colombian": "colombia", "mexican": "mexico", "emirati": "uae",
	"kashmiri": "kashmir", "baluch": "balochistan", "balochi": "balochistan", "baloch": "balochistan",
	"levantine": "levant", "caucasian": "caucasus",
}
