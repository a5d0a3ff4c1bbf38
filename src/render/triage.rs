//! `acr-doctor triage`: the answer to pasted error text, as a person reads it or as JSON.
//! The analysis is `crate::triage`; this only draws its [`TriageResult`].

use crate::lang::Lang;
use crate::triage::{Confidence, Limit, Link, Occurrences, ReadSummary, TriageResult};

pub fn render_json(result: &TriageResult) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(result).unwrap_or_default()
    )
}

pub fn render_human(result: &TriageResult, lang: Lang) -> String {
    let mut out = String::new();
    if result.candidates.is_empty() {
        out.push_str(lang.pick(
            "No known cause matches this text.\n",
            "このテキストに一致する既知の原因はありません。\n",
        ));
        if !result.guesses.is_empty() {
            out.push_str(lang.pick(
                "Closest guesses, from keywords only (low confidence, not a diagnosis):\n",
                "キーワードだけから見た近い候補 (確度: 低、診断ではありません):\n",
            ));
            for g in &result.guesses {
                let at = match lang {
                    Lang::En => format!("line {}", g.line),
                    Lang::Ja => format!("{} 行目", g.line),
                };
                out.push_str(&format!("  - {}  \"{}\" ({at})\n", g.code, g.matched));
                if let Some(title) = title(&g.code, lang) {
                    out.push_str(&format!("    {title}\n"));
                }
            }
        }
        out.push_str(lang.pick(
            "To diagnose the registry directly: acr-doctor check --name <registry>\n",
            "レジストリを直接診断するには: acr-doctor check --name <registry>\n",
        ));
        out.push_str(&read_summary(&result.read, lang));
        return out;
    }
    let n = result.candidates.len();
    out.push_str(&match lang {
        Lang::En if n == 1 => "1 possible cause:\n".to_string(),
        Lang::En => format!("{n} possible causes, most likely first:\n"),
        Lang::Ja => format!("考えられる原因: {n} 件 (可能性の高い順)\n"),
    });
    let (l_matched, l_why, l_confirm, l_where) = match lang {
        Lang::En => ("matched", "why    ", "confirm", "where  "),
        Lang::Ja => ("一致", "理由", "確認", "位置"),
    };
    for (i, c) in result.candidates.iter().enumerate() {
        out.push('\n');
        out.push_str(&format!(
            "{}. {} ({}: {})\n",
            i + 1,
            c.code,
            lang.pick("confidence", "確度"),
            confidence_label(c.confidence, lang)
        ));
        if let Some(title) = title(&c.code, lang) {
            out.push_str(&format!("   {title}\n"));
        }
        out.push_str(&format!("   {l_matched}  \"{}\"\n", c.matched));
        if let Some(o) = &c.occurrences {
            out.push_str(&format!("   {l_where}  {}\n", where_text(c.line, o, lang)));
        }
        if let Some(link) = &c.link {
            out.push_str(&format!(
                "   {}  {}\n",
                lang.pick("failed ", "失敗箇所"),
                link_text(link, lang)
            ));
        }
        let why = match lang {
            Lang::En => &c.why,
            Lang::Ja => &c.why_ja,
        };
        out.push_str(&format!("   {l_why}  {why}\n"));
        if !c.access_problem {
            out.push_str(&format!(
                "   {}  {}\n",
                lang.pick("note   ", "注意"),
                lang.pick(
                    "not a sign-in, network or permission problem: what failed is the image itself",
                    "サインイン、ネットワーク、権限の問題ではありません。失敗したのはイメージそのものです",
                )
            ));
        }
        out.push_str(&format!("   {l_confirm}  {}\n", c.confirm));
    }
    out.push('\n');
    out.push_str(lang.pick(
        "More about a cause: acr-doctor explain CODE\n",
        "原因の詳細: acr-doctor explain CODE\n",
    ));
    out.push_str(&read_summary(&result.read, lang));
    out
}

/// The layer and host of the link that failed, as the human form says it.
fn link_text(link: &Link, lang: Lang) -> String {
    use crate::triage::layers::{Layer, Role};
    let layer = match link.layer {
        Layer::Engine => lang.pick(
            "the container engine's socket",
            "コンテナー エンジンのソケット",
        ),
        Layer::Dns => lang.pick("name resolution (DNS)", "名前解決 (DNS)"),
        Layer::Tcp => lang.pick("the TCP connection", "TCP 接続"),
        Layer::Proxy => lang.pick("the HTTP proxy", "HTTP プロキシ"),
        Layer::Tls => lang.pick(
            "TLS (the certificate or handshake)",
            "TLS (証明書またはハンドシェイク)",
        ),
        Layer::Http => lang.pick("an HTTP status", "HTTP ステータス"),
        Layer::Registry => lang.pick("a registry error code", "レジストリのエラー コード"),
        Layer::Image => lang.pick("the image's content", "イメージの内容"),
        Layer::Entra => lang.pick(
            "a Microsoft Entra error code",
            "Microsoft Entra のエラー コード",
        ),
        Layer::Arm => lang.pick(
            "an Azure Resource Manager error code",
            "Azure Resource Manager のエラー コード",
        ),
    };
    let role = link.host_role.map(|r| match r {
        Role::LoginServer => lang.pick("login server", "ログイン サーバー"),
        Role::DataEndpoint => lang.pick(
            "data endpoint or storage",
            "データ エンドポイントまたはストレージ",
        ),
        Role::EntraAuthority => lang.pick("Microsoft Entra", "Microsoft Entra"),
        Role::Arm => lang.pick("Azure Resource Manager", "Azure Resource Manager"),
        Role::Graph => lang.pick("Microsoft Graph", "Microsoft Graph"),
        Role::DockerHub => lang.pick("Docker Hub", "Docker Hub"),
        Role::Metadata => lang.pick(
            "instance metadata service",
            "インスタンス メタデータ サービス",
        ),
        Role::EngineSocket => lang.pick("engine socket", "エンジンのソケット"),
        Role::Proxy => lang.pick("proxy", "プロキシ"),
        Role::Resolver => lang.pick("DNS server", "DNS サーバー"),
        Role::Other => lang.pick("a host of no known role", "役割の分からないホスト"),
    });
    match (&link.host, role) {
        (Some(host), Some(role)) => format!("{layer}, {host} ({role})"),
        (None, Some(role)) => format!("{layer} ({role})"),
        _ => layer.to_string(),
    }
}

/// Where a candidate's messages are: one line, or the first and last of several.
fn where_text(line: u64, o: &Occurrences, lang: Lang) -> String {
    match lang {
        Lang::En if o.count == 1 => format!("line {line}"),
        Lang::En => format!(
            "line {line} (found on {} lines, first {}, last {})",
            o.count, o.first_line, o.last_line
        ),
        Lang::Ja if o.count == 1 => format!("{line} 行目"),
        Lang::Ja => format!(
            "{line} 行目 ({} 行で見つかりました。最初は {} 行目、最後は {} 行目)",
            o.count, o.first_line, o.last_line
        ),
    }
}

fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The closing lines: what was read, and every limit that applied or stopped the reading.
fn read_summary(read: &ReadSummary, lang: Lang) -> String {
    let from = match (read.source.as_str(), &read.path, lang) {
        ("stdin", _, Lang::En) => "standard input".to_string(),
        ("stdin", _, Lang::Ja) => "標準入力".to_string(),
        ("file", Some(path), _) => path.clone(),
        (_, _, Lang::En) => "the argument".to_string(),
        (_, _, Lang::Ja) => "引数".to_string(),
    };
    let gzip = match (read.compressed_bytes, lang) {
        (Some(c), Lang::En) => format!(" (gzip-compressed: {c} bytes)"),
        (Some(c), Lang::Ja) => format!(" (gzip 圧縮: {c} バイト)"),
        (None, _) => String::new(),
    };
    let long: Vec<&Limit> = read
        .limits
        .iter()
        .filter(|l| l.kind == "line_length" && l.lines > 0)
        .collect();
    let mut out = match lang {
        Lang::En => format!(
            "Read {}, {}, from {from}{gzip}",
            count(read.lines, "line", "lines"),
            count(read.bytes, "byte", "bytes")
        ),
        Lang::Ja => format!(
            "{from} から {} 行、{} バイトを読みました{gzip}",
            read.lines, read.bytes
        ),
    };
    if read.complete && long.is_empty() {
        out.push_str(lang.pick(
            "; every line was examined in full.\n",
            "。すべての行を最後まで調べました。\n",
        ));
    } else {
        out.push_str(lang.pick(".\n", "。\n"));
    }
    for l in long {
        let first = l.first_line.unwrap_or(0);
        out.push_str(&match lang {
            Lang::En => format!(
                "Limit: {} line(s) (the first is line {first}) are longer than {} bytes; each was \
                 examined in windows of that size overlapping by {} bytes, so a message longer \
                 than that which crosses a window edge could be missed.\n",
                l.lines, l.max_bytes, l.overlap_bytes
            ),
            Lang::Ja => format!(
                "制限: {} 行 (最初は {first} 行目) が {} バイトを超えています。この長さの区切りを \
                 {} バイトずつ重ねて調べたため、区切りをまたぐそれより長いメッセージは見落とす\
                 可能性があります。\n",
                l.lines, l.max_bytes, l.overlap_bytes
            ),
        });
    }
    if let Some(e) = &read.error {
        out.push_str(&match lang {
            Lang::En => format!(
                "Reading stopped early after {} bytes: {e}. The rest of the input was not examined.\n",
                read.bytes
            ),
            Lang::Ja => format!(
                "{} バイト読んだところで読み込みが止まりました: {e}。残りの入力は調べていません。\n",
                read.bytes
            ),
        });
    }
    out
}

fn title(code: &str, lang: Lang) -> Option<String> {
    crate::catalogue::lookup(code)
        .map(|c| c.title(lang))
        .filter(|t| !t.trim().is_empty())
}

/// How sure triage is, in words.
fn confidence_label(confidence: Confidence, lang: Lang) -> &'static str {
    match confidence {
        Confidence::High => lang.pick("high", "高"),
        Confidence::Medium => lang.pick("medium", "中"),
        Confidence::Low => lang.pick("low", "低"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_output_explains_in_both_languages() {
        let r = crate::triage::triage("unauthorized: Application not registered with AAD");
        let en = render_human(&r, Lang::En);
        assert!(
            en.contains("APP_NOT_REGISTERED_WITH_AAD") && en.contains("not recognise the username"),
            "{en}"
        );
        let ja = render_human(&r, Lang::Ja);
        assert!(
            ja.contains("確度: 高") && ja.contains("テナントのアプリケーション"),
            "{ja}"
        );
        let none = render_human(&crate::triage::triage("hello"), Lang::En);
        assert!(none.starts_with("No known cause"));
    }
}
