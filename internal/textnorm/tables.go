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
