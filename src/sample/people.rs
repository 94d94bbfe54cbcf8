//! The fixed cast of principals (people, offices, addresses, browsers); where requests come from.

use std::fmt::Write as _;

use super::rng::{ALNUM, HEX, Rng, Zipf};

const FIRST: [&str; 40] = [
    "maria", "james", "wei", "priya", "ahmed", "sofia", "lukas", "aisha", "diego", "yuki",
    "olivia", "noah", "fatima", "ivan", "chloe", "kwame", "elena", "raj", "hannah", "mateo",
    "sara", "oliver", "mei", "arjun", "zoe", "tomasz", "leila", "daniel", "amara", "kenji",
    "grace", "omar", "ingrid", "carlos", "nadia", "ethan", "lucia", "samuel", "anya", "felix",
];
const LAST: [&str; 40] = [
    "garcia",
    "smith",
    "chen",
    "patel",
    "hassan",
    "rossi",
    "muller",
    "okafor",
    "lopez",
    "tanaka",
    "brown",
    "johnson",
    "ali",
    "petrov",
    "martin",
    "mensah",
    "popescu",
    "sharma",
    "schmidt",
    "fernandez",
    "cohen",
    "wilson",
    "wang",
    "reddy",
    "dubois",
    "nowak",
    "haddad",
    "kim",
    "nwosu",
    "sato",
    "taylor",
    "farouk",
    "larsen",
    "silva",
    "kowalski",
    "nguyen",
    "romero",
    "adeyemi",
    "ivanova",
    "weber",
];

/// Departments with their weight; the first four are engineering and use the code host,
/// the cloud and the flag service.
const DEPARTMENTS: [(&str, u32); 9] = [
    ("Engineering", 34),
    ("Platform", 10),
    ("Security", 5),
    ("Data", 8),
    ("Product", 9),
    ("Support", 14),
    ("Sales", 10),
    ("Finance", 5),
    ("People", 5),
];

/// Where a request comes from: a city and its network operator (asn 0: an anonymising proxy).
pub(crate) struct Place {
    pub(crate) city: &'static str,
    pub(crate) country_code: &'static str,
    pub(crate) country: &'static str,
    pub(crate) asn: u32,
    pub(crate) as_org: &'static str,
}

const fn place(
    city: &'static str,
    country_code: &'static str,
    country: &'static str,
    asn: u32,
    as_org: &'static str,
) -> Place {
    Place {
        city,
        country_code,
        country,
        asn,
        as_org,
    }
}

/// An office: where it is, its first IPv4 egress address (documentation ranges; four
/// consecutive ones) and its IPv6 egress prefix if dual-stack.
pub(crate) struct Office {
    pub(crate) place: Place,
    v4_prefix: &'static str,
    v4_first: u8,
    v6_prefix: Option<&'static str>,
}

pub(crate) const OFFICES: [Office; 4] = [
    Office {
        place: place(
            "San Francisco",
            "US",
            "United States",
            7922,
            "comcast cable communications llc",
        ),
        v4_prefix: "203.0.113.",
        v4_first: 10,
        v6_prefix: None,
    },
    Office {
        place: place("New York", "US", "United States", 701, "verizon business"),
        v4_prefix: "203.0.113.",
        v4_first: 60,
        v6_prefix: None,
    },
    Office {
        place: place("Berlin", "DE", "Germany", 3320, "deutsche telekom ag"),
        v4_prefix: "198.51.100.",
        v4_first: 20,
        v6_prefix: Some("2001:db8:4e2:1::"),
    },
    Office {
        place: place("Bengaluru", "IN", "India", 24560, "bharti airtel ltd."),
        v4_prefix: "198.51.100.",
        v4_first: 140,
        v6_prefix: Some("2001:db8:91a:8::"),
    },
];

/// Hotels, conferences and airports: the rare addresses.
pub(crate) const TRAVEL: [Place; 6] = [
    place(
        "London",
        "GB",
        "United Kingdom",
        2856,
        "british telecommunications plc",
    ),
    place(
        "Lisbon",
        "PT",
        "Portugal",
        3243,
        "meo - servicos de comunicacoes",
    ),
    place(
        "Las Vegas",
        "US",
        "United States",
        22773,
        "cox communications inc.",
    ),
    place("Singapore", "SG", "Singapore", 4657, "starhub ltd"),
    place("Toronto", "CA", "Canada", 577, "bell canada"),
    place(
        "Sao Paulo",
        "BR",
        "Brazil",
        28573,
        "claro nxt telecomunicacoes",
    ),
];

/// Browsers people use; each person keeps one.
pub(crate) const BROWSERS: [&str; 6] = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
];

pub(crate) struct Person {
    pub(crate) first: &'static str,
    pub(crate) last: &'static str,
    pub(crate) display_name: String,
    pub(crate) email: String,
    /// GitHub Enterprise Managed User login.
    pub(crate) login: String,
    pub(crate) okta_id: String,
    /// LaunchDarkly member `_id`.
    pub(crate) member_id: String,
    pub(crate) employee_id: u32,
    pub(crate) github_id: u32,
    pub(crate) department: &'static str,
    pub(crate) engineer: bool,
    pub(crate) admin: bool,
    pub(crate) office: usize,
    pub(crate) home_ip: String,
    pub(crate) mobile_ip: String,
    pub(crate) browser: usize,
}

/// The principals, most active first, and the skew of their activity.
pub(crate) struct Pool {
    pub(crate) people: Vec<Person>,
    engineers: Vec<usize>,
    everyone: Zipf,
    engineering: Zipf,
}

/// The cast is the same for every seed, so documented examples name real principals.
const CAST_SEED: u64 = 0x00C0_FFEE;
pub(crate) const PEOPLE: usize = 320;
pub(crate) const EMAIL_DOMAIN: &str = "acme.example";

impl Pool {
    pub(crate) fn new() -> Self {
        let mut rng = Rng::new(CAST_SEED);
        let mut names: Vec<usize> = (0..FIRST.len() * LAST.len()).collect();
        for i in (1..names.len()).rev() {
            names.swap(i, rng.index(i + 1));
        }
        let people: Vec<Person> = names[..PEOPLE]
            .iter()
            .enumerate()
            .map(|(rank, &n)| {
                person(
                    &mut rng,
                    rank,
                    FIRST[n % FIRST.len()],
                    LAST[n / FIRST.len()],
                )
            })
            .collect();
        let engineers: Vec<usize> = (0..people.len()).filter(|&i| people[i].engineer).collect();
        Pool {
            everyone: Zipf::new(people.len(), 1.0),
            engineering: Zipf::new(engineers.len(), 1.0),
            people,
            engineers,
        }
    }

    /// Anyone in the company, the most active more often.
    pub(crate) fn anyone(&self, rng: &mut Rng) -> &Person {
        &self.people[self.everyone.sample(rng)]
    }

    /// Someone in engineering.
    pub(crate) fn engineer(&self, rng: &mut Rng) -> &Person {
        &self.people[self.engineers[self.engineering.sample(rng)]]
    }
}

fn person(rng: &mut Rng, rank: usize, first: &'static str, last: &'static str) -> Person {
    let department = *rng.weighted(&DEPARTMENTS);
    let engineer = matches!(department, "Engineering" | "Platform" | "Security" | "Data");
    let mut okta_id = String::from("00u");
    let mut member_id = String::new();
    for _ in 0..17 {
        okta_id.push(char::from(*rng.pick(ALNUM)));
    }
    for _ in 0..24 {
        member_id.push(char::from(*rng.pick(HEX)));
    }
    let mut home_ip = String::new();
    if rng.chance(0.35) {
        let _ = write!(
            home_ip,
            "2001:db8:{:x}:{:x}::{:x}",
            rng.range(0x1000, 0x7fff),
            rng.below(0xffff),
            rng.range(1, 0xffff)
        );
    } else {
        write_public_v4(&mut home_ip, rng);
    }
    let mut mobile_ip = String::new();
    let _ = write!(
        mobile_ip,
        "2001:db8:8000:{:x}:{:x}:{:x}:{:x}:{:x}",
        rng.below(0xffff),
        rng.below(0xffff),
        rng.below(0xffff),
        rng.below(0xffff),
        rng.range(1, 0xffff)
    );
    Person {
        first,
        last,
        display_name: format!("{} {}", capitalised(first), capitalised(last)),
        email: format!("{first}.{last}@{EMAIL_DOMAIN}"),
        login: format!("{first}-{last}_acme"),
        okta_id,
        member_id,
        employee_id: 10_000 + rank as u32 * 7 + rng.below(7) as u32,
        github_id: rng.range(1_000_000, 160_000_000) as u32,
        department,
        engineer,
        admin: department == "Platform" || department == "Security" || rank.is_multiple_of(37),
        office: rng.index(OFFICES.len()),
        home_ip,
        mobile_ip,
        browser: rng.index(BROWSERS.len() - 1),
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// A public-looking IPv4 address (first octets from common access-network ranges).
pub(crate) fn write_public_v4(out: &mut String, rng: &mut Rng) {
    const FIRST_OCTETS: [u8; 16] = [
        24, 31, 37, 45, 62, 71, 73, 76, 81, 86, 90, 98, 109, 151, 176, 213,
    ];
    let _ = write!(
        out,
        "{}.{}.{}.{}",
        rng.pick(&FIRST_OCTETS),
        rng.below(256),
        rng.below(256),
        rng.range(1, 254)
    );
}

/// Picks where `p` sends this request from, writes the address into `ip` and returns the place.
pub(crate) fn choose_ip(
    rng: &mut Rng,
    p: &Person,
    business: bool,
    ip: &mut String,
) -> &'static Place {
    ip.clear();
    let office = &OFFICES[p.office];
    let r = rng.f64();
    if r < 0.025 {
        // Travelling: an address this person has never used before.
        if rng.chance(0.3) {
            let _ = write!(
                ip,
                "2001:db8:{:x}:{:x}::{:x}",
                rng.range(0x8000, 0xffff),
                rng.below(0xffff),
                rng.range(1, 0xffff)
            );
        } else {
            write_public_v4(ip, rng);
        }
        return rng.pick(&TRAVEL);
    }
    let in_office = if business { 0.70 } else { 0.10 };
    if r < in_office {
        match office.v6_prefix {
            Some(prefix) if rng.chance(0.5) => {
                let _ = write!(ip, "{prefix}{:x}", rng.range(1, 4));
            }
            _ => {
                let host = u64::from(office.v4_first) + rng.below(4);
                let _ = write!(ip, "{}{host}", office.v4_prefix);
            }
        }
    } else if r < in_office + 0.2 {
        ip.push_str(&p.mobile_ip);
    } else {
        ip.push_str(&p.home_ip);
    }
    &office.place
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    #[test]
    fn cast_is_unique_and_addresses_parse() {
        let pool = Pool::new();
        let mut emails: Vec<&str> = pool.people.iter().map(|p| p.email.as_str()).collect();
        emails.sort_unstable();
        emails.dedup();
        assert_eq!(emails.len(), PEOPLE);
        assert!(pool.engineers.len() > PEOPLE / 3);
        let mut rng = Rng::new(5);
        let mut ip = String::new();
        let mut v6 = 0;
        for i in 0..2000 {
            let p = pool.anyone(&mut rng);
            choose_ip(&mut rng, p, i % 2 == 0, &mut ip);
            let addr: IpAddr = ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}"));
            v6 += usize::from(addr.is_ipv6());
        }
        assert!((200..1200).contains(&v6), "{v6} IPv6 of 2000");
    }
}
