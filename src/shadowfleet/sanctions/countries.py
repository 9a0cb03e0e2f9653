"""Country names as sanctions lists write flags → ISO 3166-1 alpha-2 (to compare with the flag of an MMSI's MID).

Covers the flags found in the OFAC, UN and OpenSanctions lists shipped as references and the flags of convenience
reported for DPRK-linked ships (docs/reference.md "Identity and flags"). Unknown names give null, never a guess.
"""

from __future__ import annotations

import re

_ISO2 = {
    "DEMOCRATIC PEOPLE'S REPUBLIC OF KOREA": "KP", "DPRK": "KP", "NORTH KOREA": "KP", "KOREA, NORTH": "KP",
    "KOREA DPR": "KP", "KOREA, DEMOCRATIC PEOPLE'S REPUBLIC OF": "KP",
    "REPUBLIC OF KOREA": "KR", "SOUTH KOREA": "KR", "KOREA, SOUTH": "KR", "KOREA": "KR",
    "RUSSIA": "RU", "RUSSIAN FEDERATION": "RU", "IRAN": "IR", "IRAN (ISLAMIC REPUBLIC OF)": "IR",
    "PANAMA": "PA", "VENEZUELA": "VE", "SIERRA LEONE": "SL", "MALTA": "MT", "LIBERIA": "LR", "CUBA": "CU",
    "MONGOLIA": "MN", "HONG KONG": "HK", "TOGO": "TG", "CAMBODIA": "KH", "CAMEROON": "CM", "SINGAPORE": "SG",
    "CYPRUS": "CY", "SAINT KITTS AND NEVIS": "KN", "ST. KITTS & NEVIS": "KN", "ST KITTS AND NEVIS": "KN",
    "PALAU": "PW", "COMOROS": "KM", "TANZANIA": "TZ", "UNITED REPUBLIC OF TANZANIA": "TZ",
    "ST. VINCENT AND THE GRENADINES": "VC", "SAINT VINCENT AND THE GRENADINES": "VC", "SAMOA": "WS",
    "VIETNAM": "VN", "VIET NAM": "VN", "HONDURAS": "HN", "GABON": "GA", "FIJI": "FJ", "TUVALU": "TV",
    "CHINA": "CN", "JAPAN": "JP", "BELIZE": "BZ", "MARSHALL ISLANDS": "MH", "BAHAMAS": "BS", "GREECE": "GR",
    "SYRIA": "SY", "SYRIAN ARAB REPUBLIC": "SY", "LIBYA": "LY", "UNITED ARAB EMIRATES": "AE", "INDIA": "IN",
    "TAIWAN": "TW", "INDONESIA": "ID", "MALAYSIA": "MY", "THAILAND": "TH", "PHILIPPINES": "PH",
    "BOLIVIA": "BO", "MOLDOVA": "MD", "GEORGIA": "GE", "UKRAINE": "UA", "TURKEY": "TR", "EGYPT": "EG",
    "NETHERLANDS": "NL", "NORWAY": "NO", "DENMARK": "DK", "SWEDEN": "SE", "GERMANY": "DE",
    "UNITED KINGDOM": "GB", "UNITED STATES": "US", "ANTIGUA AND BARBUDA": "AG", "COOK ISLANDS": "CK",
    "GAMBIA": "GM", "EQUATORIAL GUINEA": "GQ", "SAO TOME AND PRINCIPE": "ST", "DJIBOUTI": "DJ",
    "KIRIBATI": "KI", "VANUATU": "VU", "BARBADOS": "BB", "JAMAICA": "JM", "NIGERIA": "NG", "GUYANA": "GY",
}


def flag_iso2(flag: str | None) -> str | None:
    """ISO alpha-2 of a flag written as a country name (or already as a code); None when unknown or 'None Identified'."""
    if flag is None:
        return None
    s = re.sub(r"\s+", " ", flag.strip().upper())
    if not s or s in ("-0-", "NONE IDENTIFIED", "UNKNOWN"):
        return None
    if len(s) == 2 and s.isalpha():
        return s
    return _ISO2.get(s)
