"""Maritime Identification Digits (MID): the flag state encoded in an MMSI, and what kind of station an MMSI is.

Source of the table: ITU, "Table of Maritime Identification Digits" (ITU-R M.585 / Radio Regulations Appendix 43,
MID allocations 201-775 as published by the ITU MARS database). Territories with their own MID carry their own
ISO 3166-1 alpha-2 code (e.g. 477 Hong Kong = HK, 331 Greenland = GL); the name says whose territory it is.

Structure of an MMSI (ITU-R M.585-9, Annexes 1-2), written as nine digits (leading zeros kept):

    MIDxxxxxx   ship station (first digit 2-7)
    0MIDxxxxx   group of ship stations
    00MIDxxxx   coast station
    111MIDxxx   SAR aircraft
    8MIDxxxxx   handheld VHF transceiver with DSC and GNSS
    98MIDxxxx   craft associated with a parent ship (tender, lifeboat)
    99MIDxxxx   aid to navigation (AtoN)
    970xxyyyy   AIS-SART;  972xxyyyy  man overboard (MOB);  974xxyyyy  EPIRB-AIS

Outside the Recommendation but common in real feeds (the 2013 DMA sample, AISdb's test data): fishing-net buoys
broadcasting numbers in 9xxxxxxxx that M.585 does not assign (900000000-969999999), and test or factory-default
numbers (111111111, 123456789, a digit repeated nine times). Only ship-format numbers are vessels; a ship-format
number whose MID no state holds is still a vessel, with an identity red flag (``mmsi_red_flag``): no
administration can have issued it, so it is made up or mistyped.

Scalar functions take an int or a digit string; the ``*_expr`` variants build polars expressions over an integer
MMSI column (one vectorised pass, no Python per row).
"""

from __future__ import annotations

import polars as pl

# MID -> (ISO 3166-1 alpha-2, name as the ITU lists it, shortened)
MID_TABLE: dict[int, tuple[str, str]] = {
    # Europe (2xx)
    201: ("AL", "Albania"), 202: ("AD", "Andorra"), 203: ("AT", "Austria"), 204: ("PT", "Azores (Portugal)"),
    205: ("BE", "Belgium"), 206: ("BY", "Belarus"), 207: ("BG", "Bulgaria"), 208: ("VA", "Vatican City State"),
    209: ("CY", "Cyprus"), 210: ("CY", "Cyprus"), 211: ("DE", "Germany"), 212: ("CY", "Cyprus"),
    213: ("GE", "Georgia"), 214: ("MD", "Moldova"), 215: ("MT", "Malta"), 216: ("AM", "Armenia"),
    218: ("DE", "Germany"), 219: ("DK", "Denmark"), 220: ("DK", "Denmark"), 224: ("ES", "Spain"),
    225: ("ES", "Spain"), 226: ("FR", "France"), 227: ("FR", "France"), 228: ("FR", "France"),
    229: ("MT", "Malta"), 230: ("FI", "Finland"), 231: ("FO", "Faroe Islands (Denmark)"),
    232: ("GB", "United Kingdom"), 233: ("GB", "United Kingdom"), 234: ("GB", "United Kingdom"),
    235: ("GB", "United Kingdom"), 236: ("GI", "Gibraltar (United Kingdom)"), 237: ("GR", "Greece"),
    238: ("HR", "Croatia"), 239: ("GR", "Greece"), 240: ("GR", "Greece"), 241: ("GR", "Greece"),
    242: ("MA", "Morocco"), 243: ("HU", "Hungary"), 244: ("NL", "Netherlands"), 245: ("NL", "Netherlands"),
    246: ("NL", "Netherlands"), 247: ("IT", "Italy"), 248: ("MT", "Malta"), 249: ("MT", "Malta"),
    250: ("IE", "Ireland"), 251: ("IS", "Iceland"), 252: ("LI", "Liechtenstein"), 253: ("LU", "Luxembourg"),
    254: ("MC", "Monaco"), 255: ("PT", "Madeira (Portugal)"), 256: ("MT", "Malta"), 257: ("NO", "Norway"),
    258: ("NO", "Norway"), 259: ("NO", "Norway"), 261: ("PL", "Poland"), 262: ("ME", "Montenegro"),
    263: ("PT", "Portugal"), 264: ("RO", "Romania"), 265: ("SE", "Sweden"), 266: ("SE", "Sweden"),
    267: ("SK", "Slovakia"), 268: ("SM", "San Marino"), 269: ("CH", "Switzerland"), 270: ("CZ", "Czech Republic"),
    271: ("TR", "Türkiye"), 272: ("UA", "Ukraine"), 273: ("RU", "Russian Federation"),
    274: ("MK", "North Macedonia"), 275: ("LV", "Latvia"), 276: ("EE", "Estonia"), 277: ("LT", "Lithuania"),
    278: ("SI", "Slovenia"), 279: ("RS", "Serbia"),
    # North and Central America, Caribbean (3xx)
    301: ("AI", "Anguilla (United Kingdom)"), 303: ("US", "Alaska (United States)"),
    304: ("AG", "Antigua and Barbuda"), 305: ("AG", "Antigua and Barbuda"),
    306: ("CW", "Curaçao, Sint Maarten, Bonaire, Sint Eustatius and Saba (Netherlands)"),
    307: ("AW", "Aruba (Netherlands)"), 308: ("BS", "Bahamas"), 309: ("BS", "Bahamas"),
    310: ("BM", "Bermuda (United Kingdom)"), 311: ("BS", "Bahamas"), 312: ("BZ", "Belize"),
    314: ("BB", "Barbados"), 316: ("CA", "Canada"), 319: ("KY", "Cayman Islands (United Kingdom)"),
    321: ("CR", "Costa Rica"), 323: ("CU", "Cuba"), 325: ("DM", "Dominica"), 327: ("DO", "Dominican Republic"),
    329: ("GP", "Guadeloupe (France)"), 330: ("GD", "Grenada"), 331: ("GL", "Greenland (Denmark)"),
    332: ("GT", "Guatemala"), 334: ("HN", "Honduras"), 336: ("HT", "Haiti"), 338: ("US", "United States"),
    339: ("JM", "Jamaica"), 341: ("KN", "Saint Kitts and Nevis"), 343: ("LC", "Saint Lucia"), 345: ("MX", "Mexico"),
    347: ("MQ", "Martinique (France)"), 348: ("MS", "Montserrat (United Kingdom)"), 350: ("NI", "Nicaragua"),
    351: ("PA", "Panama"), 352: ("PA", "Panama"), 353: ("PA", "Panama"), 354: ("PA", "Panama"),
    355: ("PA", "Panama"), 356: ("PA", "Panama"), 357: ("PA", "Panama"),
    358: ("PR", "Puerto Rico (United States)"), 359: ("SV", "El Salvador"),
    361: ("PM", "Saint Pierre and Miquelon (France)"), 362: ("TT", "Trinidad and Tobago"),
    364: ("TC", "Turks and Caicos Islands (United Kingdom)"), 366: ("US", "United States"),
    367: ("US", "United States"), 368: ("US", "United States"), 369: ("US", "United States"),
    370: ("PA", "Panama"), 371: ("PA", "Panama"), 372: ("PA", "Panama"), 373: ("PA", "Panama"),
    374: ("PA", "Panama"), 375: ("VC", "Saint Vincent and the Grenadines"),
    376: ("VC", "Saint Vincent and the Grenadines"), 377: ("VC", "Saint Vincent and the Grenadines"),
    378: ("VG", "British Virgin Islands (United Kingdom)"), 379: ("VI", "United States Virgin Islands"),
    # Asia (4xx)
    401: ("AF", "Afghanistan"), 403: ("SA", "Saudi Arabia"), 405: ("BD", "Bangladesh"), 408: ("BH", "Bahrain"),
    410: ("BT", "Bhutan"), 412: ("CN", "China"), 413: ("CN", "China"), 414: ("CN", "China"),
    416: ("TW", "Taiwan (Province of China)"), 417: ("LK", "Sri Lanka"), 419: ("IN", "India"), 422: ("IR", "Iran"),
    423: ("AZ", "Azerbaijan"), 425: ("IQ", "Iraq"), 428: ("IL", "Israel"), 431: ("JP", "Japan"),
    432: ("JP", "Japan"), 434: ("TM", "Turkmenistan"), 436: ("KZ", "Kazakhstan"), 437: ("UZ", "Uzbekistan"),
    438: ("JO", "Jordan"), 440: ("KR", "Korea (Republic of)"), 441: ("KR", "Korea (Republic of)"),
    443: ("PS", "State of Palestine"), 445: ("KP", "Democratic People's Republic of Korea"), 447: ("KW", "Kuwait"),
    450: ("LB", "Lebanon"), 451: ("KG", "Kyrgyzstan"), 453: ("MO", "Macao (China)"), 455: ("MV", "Maldives"),
    457: ("MN", "Mongolia"), 459: ("NP", "Nepal"), 461: ("OM", "Oman"), 463: ("PK", "Pakistan"),
    466: ("QA", "Qatar"), 468: ("SY", "Syrian Arab Republic"), 470: ("AE", "United Arab Emirates"),
    471: ("AE", "United Arab Emirates"), 472: ("TJ", "Tajikistan"), 473: ("YE", "Yemen"), 475: ("YE", "Yemen"),
    477: ("HK", "Hong Kong (China)"), 478: ("BA", "Bosnia and Herzegovina"),
    # Oceania and South-East Asia (5xx)
    501: ("TF", "Adelie Land (France)"), 503: ("AU", "Australia"), 506: ("MM", "Myanmar"),
    508: ("BN", "Brunei Darussalam"), 510: ("FM", "Micronesia"), 511: ("PW", "Palau"), 512: ("NZ", "New Zealand"),
    514: ("KH", "Cambodia"), 515: ("KH", "Cambodia"), 516: ("CX", "Christmas Island (Australia)"),
    518: ("CK", "Cook Islands (New Zealand)"), 520: ("FJ", "Fiji"), 523: ("CC", "Cocos (Keeling) Islands (Australia)"),
    525: ("ID", "Indonesia"), 529: ("KI", "Kiribati"), 531: ("LA", "Lao People's Democratic Republic"),
    533: ("MY", "Malaysia"), 536: ("MP", "Northern Mariana Islands (United States)"),
    538: ("MH", "Marshall Islands"), 540: ("NC", "New Caledonia (France)"), 542: ("NU", "Niue (New Zealand)"),
    544: ("NR", "Nauru"), 546: ("PF", "French Polynesia (France)"), 548: ("PH", "Philippines"),
    550: ("TL", "Timor-Leste"), 553: ("PG", "Papua New Guinea"), 555: ("PN", "Pitcairn Island (United Kingdom)"),
    557: ("SB", "Solomon Islands"), 559: ("AS", "American Samoa (United States)"), 561: ("WS", "Samoa"),
    563: ("SG", "Singapore"), 564: ("SG", "Singapore"), 565: ("SG", "Singapore"), 566: ("SG", "Singapore"),
    567: ("TH", "Thailand"), 570: ("TO", "Tonga"), 572: ("TV", "Tuvalu"), 574: ("VN", "Viet Nam"),
    576: ("VU", "Vanuatu"), 577: ("VU", "Vanuatu"), 578: ("WF", "Wallis and Futuna Islands (France)"),
    # Africa (6xx)
    601: ("ZA", "South Africa"), 603: ("AO", "Angola"), 605: ("DZ", "Algeria"),
    607: ("TF", "Saint Paul and Amsterdam Islands (France)"), 608: ("SH", "Ascension Island (United Kingdom)"),
    609: ("BI", "Burundi"), 610: ("BJ", "Benin"), 611: ("BW", "Botswana"), 612: ("CF", "Central African Republic"),
    613: ("CM", "Cameroon"), 615: ("CG", "Congo"), 616: ("KM", "Comoros"), 617: ("CV", "Cabo Verde"),
    618: ("TF", "Crozet Archipelago (France)"), 619: ("CI", "Côte d'Ivoire"), 620: ("KM", "Comoros"),
    621: ("DJ", "Djibouti"), 622: ("EG", "Egypt"), 624: ("ET", "Ethiopia"), 625: ("ER", "Eritrea"),
    626: ("GA", "Gabon"), 627: ("GH", "Ghana"), 629: ("GM", "Gambia"), 630: ("GW", "Guinea-Bissau"),
    631: ("GQ", "Equatorial Guinea"), 632: ("GN", "Guinea"), 633: ("BF", "Burkina Faso"), 634: ("KE", "Kenya"),
    635: ("TF", "Kerguelen Islands (France)"), 636: ("LR", "Liberia"), 637: ("LR", "Liberia"),
    638: ("SS", "South Sudan"), 642: ("LY", "Libya"), 644: ("LS", "Lesotho"), 645: ("MU", "Mauritius"),
    647: ("MG", "Madagascar"), 649: ("ML", "Mali"), 650: ("MZ", "Mozambique"), 654: ("MR", "Mauritania"),
    655: ("MW", "Malawi"), 656: ("NE", "Niger"), 657: ("NG", "Nigeria"), 659: ("NA", "Namibia"),
    660: ("RE", "Reunion (France)"), 661: ("RW", "Rwanda"), 662: ("SD", "Sudan"), 663: ("SN", "Senegal"),
    664: ("SC", "Seychelles"), 665: ("SH", "Saint Helena (United Kingdom)"), 666: ("SO", "Somalia"),
    667: ("SL", "Sierra Leone"), 668: ("ST", "Sao Tome and Principe"), 669: ("SZ", "Eswatini"), 670: ("TD", "Chad"),
    671: ("TG", "Togo"), 672: ("TN", "Tunisia"), 674: ("TZ", "Tanzania"), 675: ("UG", "Uganda"),
    676: ("CD", "Democratic Republic of the Congo"), 677: ("TZ", "Tanzania"), 678: ("ZM", "Zambia"),
    679: ("ZW", "Zimbabwe"),
    # South America (7xx)
    701: ("AR", "Argentina"), 710: ("BR", "Brazil"), 720: ("BO", "Bolivia"), 725: ("CL", "Chile"),
    730: ("CO", "Colombia"), 735: ("EC", "Ecuador"), 740: ("FK", "Falkland Islands (United Kingdom)"),
    745: ("GF", "French Guiana (France)"), 750: ("GY", "Guyana"), 755: ("PY", "Paraguay"), 760: ("PE", "Peru"),
    765: ("SR", "Suriname"), 770: ("UY", "Uruguay"), 775: ("VE", "Venezuela"),
}

MID_FLAG: dict[int, str] = {mid: iso for mid, (iso, _) in MID_TABLE.items()}
MID_COUNTRY: dict[int, str] = {mid: name for mid, (_, name) in MID_TABLE.items()}

# Kinds of MMSI (ITU-R M.585-9). Strings so that they read well in tables and JSON.
SHIP = "ship"
GROUP = "group"
COAST_STATION = "coast_station"
SAR_AIRCRAFT = "sar_aircraft"
HANDHELD = "handheld"
CRAFT_ASSOCIATED = "craft_associated"
ATON = "aton"
SART = "sart"
MOB = "mob"
EPIRB = "epirb"
NET_BUOY = "net_buoy"
TEST_NUMBER = "test_number"
INVALID = "invalid"
KINDS = (SHIP, GROUP, COAST_STATION, SAR_AIRCRAFT, HANDHELD, CRAFT_ASSOCIATED, ATON, SART, MOB, EPIRB, NET_BUOY,
         TEST_NUMBER, INVALID)
# factory-default and test numbers seen in real feeds (REFERENCE: 111111111, 123456789), and any digit nine times
TEST_NUMBERS: tuple[int, ...] = (123456789, 987654321, *(d * 111_111_111 for d in range(1, 10)))
# the identity red flag of a ship-format MMSI whose MID is allocated to no state, and how much it weighs: "medium",
# since real feeds carry a few mistyped numbers beside deliberately invented ones (UN PoE: DPRK ships broadcasting
# made-up MMSIs); it is evidence about identity, not about position, so it is never a spoofing event
UNALLOCATED_MID = "unallocated_mid"
UNALLOCATED_MID_SEVERITY = "medium"

_MMSI_MAX = 999_999_999


def _as_int(mmsi: int | str | None) -> int | None:
    if mmsi is None or isinstance(mmsi, bool):
        return None
    if isinstance(mmsi, int):
        v = mmsi
    else:
        s = str(mmsi).strip()
        if not s.isdigit() or len(s) > 9:
            return None
        v = int(s)
    return v if 0 < v <= _MMSI_MAX else None


def _classify(v: int) -> tuple[str, int | None]:
    """(structural kind, MID position value or None) of a nine-digit MMSI given as an int."""
    if v in TEST_NUMBERS:
        return TEST_NUMBER, None
    if 900_000_000 <= v < 970_000_000:
        return NET_BUOY, None
    if v >= 970_000_000 and v < 980_000_000:
        return {970: SART, 972: MOB, 974: EPIRB}.get(v // 1_000_000, INVALID), None
    if 980_000_000 <= v < 990_000_000:
        return CRAFT_ASSOCIATED, (v // 10_000) % 1000
    if v >= 990_000_000:
        return ATON, (v // 10_000) % 1000
    if 111_000_000 <= v < 112_000_000:
        return SAR_AIRCRAFT, (v // 1000) % 1000
    if 800_000_000 <= v < 900_000_000:
        return HANDHELD, (v // 100_000) % 1000
    if 200_000_000 <= v < 800_000_000:
        return SHIP, v // 1_000_000
    if 10_000_000 <= v < 100_000_000:  # 0MIDxxxxx
        return GROUP, v // 100_000
    if 1_000_000 <= v < 10_000_000:  # 00MIDxxxx
        return COAST_STATION, v // 10_000
    return INVALID, None


def mmsi_kind(mmsi: int | str | None) -> str:
    """What kind of station an MMSI identifies by its format; "invalid" if malformed, or if a format other than a
    ship's carries an unallocated MID (a ship-format number stays "ship": see ``mmsi_red_flag``)."""
    v = _as_int(mmsi)
    if v is None:
        return INVALID
    kind, mid = _classify(v)
    if kind in (SHIP, SART, MOB, EPIRB, NET_BUOY, TEST_NUMBER, INVALID):
        return kind
    return kind if mid in MID_TABLE else INVALID


def is_vessel(mmsi: int | str | None) -> bool:
    """Ship-format numbers are the vessels detection and cases are about."""
    return mmsi_kind(mmsi) == SHIP


def mmsi_red_flag(mmsi: int | str | None) -> tuple[str, str] | None:
    """(kind, severity) of the identity red flag an MMSI carries by itself, or None."""
    v = _as_int(mmsi)
    if v is None:
        return None
    kind, mid = _classify(v)
    return (UNALLOCATED_MID, UNALLOCATED_MID_SEVERITY) if kind == SHIP and mid not in MID_TABLE else None


def mid_of(mmsi: int | str | None) -> int | None:
    """The allocated MID inside an MMSI (wherever the MMSI's kind puts it), or None."""
    v = _as_int(mmsi)
    if v is None:
        return None
    _, mid = _classify(v)
    return mid if mid in MID_TABLE else None


def flag_of(mmsi: int | str | None) -> str | None:
    """ISO 3166-1 alpha-2 of the flag state the MMSI's MID belongs to (445... -> "KP"), or None."""
    mid = mid_of(mmsi)
    return MID_FLAG[mid] if mid is not None else None


def country_of(mmsi: int | str | None) -> str | None:
    mid = mid_of(mmsi)
    return MID_COUNTRY[mid] if mid is not None else None


# ---- vectorised (polars expressions over an Int64 MMSI column) ----------------------------------------------


def _col(e: pl.Expr | str) -> pl.Expr:
    return (pl.col(e) if isinstance(e, str) else e).cast(pl.Int64, strict=False)


def _structural_kind_expr(v: pl.Expr) -> pl.Expr:
    return (
        pl.when(v.is_null() | (v <= 0) | (v > _MMSI_MAX)).then(pl.lit(INVALID))
        .when(v.is_in(list(TEST_NUMBERS))).then(pl.lit(TEST_NUMBER))
        .when((v >= 900_000_000) & (v < 970_000_000)).then(pl.lit(NET_BUOY))
        .when(v // 1_000_000 == 970).then(pl.lit(SART))
        .when(v // 1_000_000 == 972).then(pl.lit(MOB))
        .when(v // 1_000_000 == 974).then(pl.lit(EPIRB))
        .when((v >= 970_000_000) & (v < 980_000_000)).then(pl.lit(INVALID))
        .when((v >= 980_000_000) & (v < 990_000_000)).then(pl.lit(CRAFT_ASSOCIATED))
        .when(v >= 990_000_000).then(pl.lit(ATON))
        .when((v >= 111_000_000) & (v < 112_000_000)).then(pl.lit(SAR_AIRCRAFT))
        .when((v >= 800_000_000) & (v < 900_000_000)).then(pl.lit(HANDHELD))
        .when((v >= 200_000_000) & (v < 800_000_000)).then(pl.lit(SHIP))
        .when((v >= 10_000_000) & (v < 100_000_000)).then(pl.lit(GROUP))
        .when((v >= 1_000_000) & (v < 10_000_000)).then(pl.lit(COAST_STATION))
        .otherwise(pl.lit(INVALID))
    )


def _mid_position_expr(v: pl.Expr, kind: pl.Expr) -> pl.Expr:
    return (
        pl.when(kind == SHIP).then(v // 1_000_000)
        .when(kind == GROUP).then(v // 100_000)
        .when(kind == COAST_STATION).then(v // 10_000)
        .when(kind == SAR_AIRCRAFT).then((v // 1000) % 1000)
        .when(kind == HANDHELD).then((v // 100_000) % 1000)
        .when(kind.is_in([CRAFT_ASSOCIATED, ATON])).then((v // 10_000) % 1000)
        .otherwise(None)
    )


def mid_expr(mmsi: pl.Expr | str = "mmsi") -> pl.Expr:
    """Vectorised ``mid_of``: Int64 column "mid", null where none is allocated."""
    v = _col(mmsi)
    mid = _mid_position_expr(v, _structural_kind_expr(v))
    return pl.when(mid.is_in(list(MID_TABLE))).then(mid).otherwise(None).cast(pl.Int64).alias("mid")


def flag_expr(mmsi: pl.Expr | str = "mmsi") -> pl.Expr:
    """Vectorised ``flag_of``: string column "flag" (ISO alpha-2), null where no MID is allocated."""
    return mid_expr(mmsi).replace_strict(MID_FLAG, default=None, return_dtype=pl.Utf8).alias("flag")


def country_expr(mmsi: pl.Expr | str = "mmsi") -> pl.Expr:
    return mid_expr(mmsi).replace_strict(MID_COUNTRY, default=None, return_dtype=pl.Utf8).alias("country")


def mmsi_kind_expr(mmsi: pl.Expr | str = "mmsi") -> pl.Expr:
    """Vectorised ``mmsi_kind``: string column "mmsi_kind"."""
    v = _col(mmsi)
    kind = _structural_kind_expr(v)
    has_mid = _mid_position_expr(v, kind).is_in(list(MID_TABLE)).fill_null(False)
    return (
        pl.when(kind.is_in([SHIP, SART, MOB, EPIRB, NET_BUOY, TEST_NUMBER, INVALID])).then(kind)
        .when(has_mid).then(kind)
        .otherwise(pl.lit(INVALID))
    ).alias("mmsi_kind")


def is_vessel_expr(mmsi: pl.Expr | str = "mmsi") -> pl.Expr:
    """Vectorised ``is_vessel``: Boolean column "is_vessel"."""
    return (mmsi_kind_expr(mmsi) == SHIP).alias("is_vessel")


def red_flag_expr(mmsi: pl.Expr | str = "mmsi") -> list[pl.Expr]:
    """Vectorised ``mmsi_red_flag``: string columns "red_flag" and "red_flag_severity" (null without one)."""
    v = _col(mmsi)
    kind = _structural_kind_expr(v)
    bad = (kind == SHIP) & ~_mid_position_expr(v, kind).is_in(list(MID_TABLE)).fill_null(False)
    return [pl.when(bad).then(pl.lit(UNALLOCATED_MID)).otherwise(None).alias("red_flag"),
            pl.when(bad).then(pl.lit(UNALLOCATED_MID_SEVERITY)).otherwise(None).alias("red_flag_severity")]
