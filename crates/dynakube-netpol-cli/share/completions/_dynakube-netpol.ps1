
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'dynakube-netpol' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'dynakube-netpol'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'dynakube-netpol' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Generate network policies from DynaKube and EdgeConnect resources')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check network policies against the matrix of DynaKube and EdgeConnect resources')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Report the pods the operator''s webhook left uninjected, and how to bring them back')
            [CompletionResult]::new('zone-plan', 'zone-plan', [CompletionResultType]::ParameterValue, 'Print, per network zone, what must exist in the Dynatrace environment before the policies and the DynaKubes are applied; with --apply, create it')
            [CompletionResult]::new('lock', 'lock', [CompletionResultType]::ParameterValue, 'Resolve the hosts the policies need into the lock file; refresh or check it')
            [CompletionResult]::new('helm-post-render', 'helm-post-render', [CompletionResultType]::ParameterValue, 'Helm post-renderer: the rendered release on standard input, written back unchanged, followed by the policies of its DynaKubes and EdgeConnects')
            [CompletionResult]::new('krm', 'krm', [CompletionResultType]::ParameterValue, 'KRM function: a ResourceList on standard input, the same list with the policies appended to its items on standard output')
            [CompletionResult]::new('kustomize-transformer', 'kustomize-transformer', [CompletionResultType]::ParameterValue, 'kustomize transformer plugin: resources on standard input, the resources and their policies on standard output; CONFIG is the NetworkPolicyGenerator config file')
            [CompletionResult]::new('plugins', 'plugins', [CompletionResultType]::ParameterValue, 'Set up the names under which kubectl and kustomize run this binary: its kubectl plugin, kubectl completion, KRM function and kustomize transformer plugin')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script of a shell')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write the man pages (dynakube-netpol.1 and one per subcommand) into DIR')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'dynakube-netpol;generate' {
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The cluster profile (`-` reads standard input): namespace, operator release, kube-apiserver and node addresses, DNS, Prometheus, Helm values, network zones and the peers no resource can name. Every field is optional; see the README for the format')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'Addresses of external hosts (`-` reads standard input): a YAML map from host name (or EdgeConnect host pattern) to a list of IPs or CIDRs')
            [CompletionResult]::new('--fqdn-fallback', '--fqdn-fallback', [CompletionResultType]::ParameterName, 'What to allow for a host without addresses. `public-internet`: its port to every public IPv4 and IPv6 address (not private, loopback, link-local or CGNAT ranges). Without this option such hosts are an error that lists them. (`verify` checks such hosts at a sample public address; without the option their flows are unchecked.)')
            [CompletionResult]::new('--zone-fallback', '--zone-fallback', [CompletionResultType]::ParameterName, 'The fallback mode of the network zones the DynaKubes name in spec.networkZone. `none`: OneAgents, code modules and log monitoring reach only the in-cluster ActiveGate (which must have the routing capability), so only the ActiveGate leaves the cluster for them. `any` (Dynatrace''s default) and `only-default-zone` let them reach the tenant too')
            [CompletionResult]::new('--operator-version', '--operator-version', [CompletionResultType]::ParameterName, 'The Dynatrace Operator release of the cluster, such as 1.9 or 1.10.2 (overrides operatorVersion in the cluster profile). Without either, the newest release that serves the DynaKubes'' API versions is assumed, and a note says so')
            [CompletionResult]::new('--proxy-url', '--proxy-url', [CompletionResultType]::ParameterName, 'The proxy URL of DynaKubes whose spec.proxy.valueFrom names a Secret, which this tool cannot read. Credentials, path and query in it are never written out')
            [CompletionResult]::new('--internal-host', '--internal-host', [CompletionResultType]::ParameterName, 'A host (name or IP address) to treat as internal, whatever its role: private addresses are accepted for it (a private link to the tenant, an Environment ActiveGate on a private address, a registry mirror). May be given more than once')
            [CompletionResult]::new('--max-input-bytes', '--max-input-bytes', [CompletionResultType]::ParameterName, 'The most bytes one input file may have (1 to 4294967296)')
            [CompletionResult]::new('--max-depth', '--max-depth', [CompletionResultType]::ParameterName, 'The deepest nesting of YAML flow collections ([...], {...}) a document may have (1 to 128: the YAML parser refuses any nesting, flow or block, deeper than 128 itself)')
            [CompletionResult]::new('--lock', '--lock', [CompletionResultType]::ParameterName, 'The lock file: the addresses DNS gave for every host the policies need (default dynakube-netpol.lock in the current directory). Hosts it holds are never resolved again; hosts it lacks are resolved and added')
            [CompletionResult]::new('--nameserver', '--nameserver', [CompletionResultType]::ParameterName, 'A DNS server to ask instead of the system''s (IP, or IP:PORT; port 53 by default); may be given more than once. Implies the lock')
            [CompletionResult]::new('--dns-timeout', '--dns-timeout', [CompletionResultType]::ParameterName, 'Seconds one DNS query may take (1 to 60)')
            [CompletionResult]::new('--dns-parallelism', '--dns-parallelism', [CompletionResultType]::ParameterName, 'How many hosts are resolved at the same time (1 to 256)')
            [CompletionResult]::new('--flavor', '--flavor', [CompletionResultType]::ParameterName, 'The policy language')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write one file per policy and a kustomization.yaml into DIR, removing files this tool wrote there before that are no longer generated. `-o -` writes the stream to standard output, as without the option')
            [CompletionResult]::new('--output-dir', '--output-dir', [CompletionResultType]::ParameterName, 'Write one file per policy and a kustomization.yaml into DIR, removing files this tool wrote there before that are no longer generated. `-o -` writes the stream to standard output, as without the option')
            [CompletionResult]::new('--allow-any-address', '--allow-any-address', [CompletionResultType]::ParameterName, 'Accept address blocks of every address (0.0.0.0/0, ::/0) in the hosts file and the cluster profile. A rule with such a block admits the whole internet and the cluster network alike; without this option they are refused')
            [CompletionResult]::new('--allow-special-addresses', '--allow-special-addresses', [CompletionResultType]::ParameterName, 'Accept special-purpose addresses (loopback, link-local, private, CGNAT, IPv4-mapped, ...) for every host, wherever they come from: the hosts file, the lock file, DNS or an IP address in the resources. Without it, hosts on the internet (the tenant, communication endpoints, public registries, EdgeConnect''s platform hosts) may have none and no address of the cluster''s own, and no host may be loopback, link-local, multicast or IPv4-mapped')
            [CompletionResult]::new('--allow-shared-namespace', '--allow-shared-namespace', [CompletionResultType]::ParameterName, 'Accept an operator namespace the cluster or other software shares (default, kube-*, openshift, openshift-*). The policies put every pod of the operator namespace into default deny; without this option such namespaces are refused')
            [CompletionResult]::new('--ignore-unknown-fields', '--ignore-unknown-fields', [CompletionResultType]::ParameterName, 'Ignore fields that a resource''s API version does not declare, with a warning each, instead of refusing the resource (as `kubectl apply --validate=false` would keep it; the API server then drops the fields). A misspelled field usually means a component the policies do not open for')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never use the network: hosts the lock and --hosts do not hold are an error naming them')
            [CompletionResult]::new('--allow-unresolved', '--allow-unresolved', [CompletionResultType]::ParameterName, 'Hosts DNS does not resolve (NXDOMAIN, SERVFAIL, timeout, empty answer) get no rule and a warning, instead of failing. (EdgeConnect forwarding targets always do.)')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'With --output-dir: write nothing; exit 1 and print a unified diff when DIR differs from what the inputs generate')
            [CompletionResult]::new('--sync', '--sync', [CompletionResultType]::ParameterName, 'With --output-dir: flush the new files to disk before they take the place of the old ones, so that a crash of the machine right after the write cannot leave empty files. Costs about a millisecond per file on slow disks')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'dynakube-netpol;verify' {
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The cluster profile (`-` reads standard input): namespace, operator release, kube-apiserver and node addresses, DNS, Prometheus, Helm values, network zones and the peers no resource can name. Every field is optional; see the README for the format')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'Addresses of external hosts (`-` reads standard input): a YAML map from host name (or EdgeConnect host pattern) to a list of IPs or CIDRs')
            [CompletionResult]::new('--fqdn-fallback', '--fqdn-fallback', [CompletionResultType]::ParameterName, 'What to allow for a host without addresses. `public-internet`: its port to every public IPv4 and IPv6 address (not private, loopback, link-local or CGNAT ranges). Without this option such hosts are an error that lists them. (`verify` checks such hosts at a sample public address; without the option their flows are unchecked.)')
            [CompletionResult]::new('--zone-fallback', '--zone-fallback', [CompletionResultType]::ParameterName, 'The fallback mode of the network zones the DynaKubes name in spec.networkZone. `none`: OneAgents, code modules and log monitoring reach only the in-cluster ActiveGate (which must have the routing capability), so only the ActiveGate leaves the cluster for them. `any` (Dynatrace''s default) and `only-default-zone` let them reach the tenant too')
            [CompletionResult]::new('--operator-version', '--operator-version', [CompletionResultType]::ParameterName, 'The Dynatrace Operator release of the cluster, such as 1.9 or 1.10.2 (overrides operatorVersion in the cluster profile). Without either, the newest release that serves the DynaKubes'' API versions is assumed, and a note says so')
            [CompletionResult]::new('--proxy-url', '--proxy-url', [CompletionResultType]::ParameterName, 'The proxy URL of DynaKubes whose spec.proxy.valueFrom names a Secret, which this tool cannot read. Credentials, path and query in it are never written out')
            [CompletionResult]::new('--internal-host', '--internal-host', [CompletionResultType]::ParameterName, 'A host (name or IP address) to treat as internal, whatever its role: private addresses are accepted for it (a private link to the tenant, an Environment ActiveGate on a private address, a registry mirror). May be given more than once')
            [CompletionResult]::new('--max-input-bytes', '--max-input-bytes', [CompletionResultType]::ParameterName, 'The most bytes one input file may have (1 to 4294967296)')
            [CompletionResult]::new('--max-depth', '--max-depth', [CompletionResultType]::ParameterName, 'The deepest nesting of YAML flow collections ([...], {...}) a document may have (1 to 128: the YAML parser refuses any nesting, flow or block, deeper than 128 itself)')
            [CompletionResult]::new('--policies', '--policies', [CompletionResultType]::ParameterName, 'The policies: a YAML file or a directory of them (networking.k8s.io/v1 NetworkPolicies, alone or in lists such as `kubectl get networkpolicies -A -o yaml` prints); `-` reads standard input')
            [CompletionResult]::new('--pods', '--pods', [CompletionResultType]::ParameterName, 'Pods and namespaces, as `kubectl get pods,namespaces -A -o yaml` prints them. Without it, a model cluster is built from the matrix: one pod per Dynatrace workload, the cluster DNS, Prometheus, an injected application namespace and an unrelated one. May be given more than once (for example a pod list and a namespace list); `-` reads standard input')
            [CompletionResult]::new('--write-case', '--write-case', [CompletionResultType]::ParameterName, 'Also write the cluster, the policies and every connection tried, with its verdict, into DIR (policies.yaml, cluster.yaml, expected.yaml), for cross-checks with other analyzers')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, '`text` (a table, one row per flow) or `json`')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Findings that fail the verification (exit 1) besides denied flows, comma separated: `extra` (connections allowed beyond the matrix), `unchecked` (flows that could not be checked), `foreign` (pods of the operator namespace that no Dynatrace component accounts for, which default-deny isolates; with --pods)')
            [CompletionResult]::new('--lock', '--lock', [CompletionResultType]::ParameterName, 'A lock file giving addresses of hosts --hosts does not (default dynakube-netpol.lock when it exists). verify reads it and never resolves')
            [CompletionResult]::new('--allow-any-address', '--allow-any-address', [CompletionResultType]::ParameterName, 'Accept address blocks of every address (0.0.0.0/0, ::/0) in the hosts file and the cluster profile. A rule with such a block admits the whole internet and the cluster network alike; without this option they are refused')
            [CompletionResult]::new('--allow-special-addresses', '--allow-special-addresses', [CompletionResultType]::ParameterName, 'Accept special-purpose addresses (loopback, link-local, private, CGNAT, IPv4-mapped, ...) for every host, wherever they come from: the hosts file, the lock file, DNS or an IP address in the resources. Without it, hosts on the internet (the tenant, communication endpoints, public registries, EdgeConnect''s platform hosts) may have none and no address of the cluster''s own, and no host may be loopback, link-local, multicast or IPv4-mapped')
            [CompletionResult]::new('--allow-shared-namespace', '--allow-shared-namespace', [CompletionResultType]::ParameterName, 'Accept an operator namespace the cluster or other software shares (default, kube-*, openshift, openshift-*). The policies put every pod of the operator namespace into default deny; without this option such namespaces are refused')
            [CompletionResult]::new('--ignore-unknown-fields', '--ignore-unknown-fields', [CompletionResultType]::ParameterName, 'Ignore fields that a resource''s API version does not declare, with a warning each, instead of refusing the resource (as `kubectl apply --validate=false` would keep it; the API server then drops the fields). A misspelled field usually means a component the policies do not open for')
            [CompletionResult]::new('--allow-unevaluated', '--allow-unevaluated', [CompletionResultType]::ParameterName, 'Check the NetworkPolicies even when the policy files also hold policies of kinds verify cannot evaluate (Cilium, Calico, AdminNetworkPolicy); the report counts them')
            [CompletionResult]::new('--allow-no-policies', '--allow-no-policies', [CompletionResultType]::ParameterName, 'Accept policy files without any NetworkPolicy')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'dynakube-netpol;audit' {
            [CompletionResult]::new('--dynakube', '--dynakube', [CompletionResultType]::ParameterName, 'DynaKubes with their status, to say whether restarting now would inject; may be given more than once')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, '`text` (grouped, with restart commands) or `json`')
            [CompletionResult]::new('--max-input-bytes', '--max-input-bytes', [CompletionResultType]::ParameterName, 'The most bytes one input file may have (pod dumps of large clusters are big; 1 to 4294967296)')
            [CompletionResult]::new('--max-depth', '--max-depth', [CompletionResultType]::ParameterName, 'The deepest nesting of YAML flow collections ([...], {...}) a document may have (1 to 128: the YAML parser refuses any nesting, flow or block, deeper than 128 itself)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'dynakube-netpol;zone-plan' {
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The cluster profile (`-` reads standard input): namespace, operator release, kube-apiserver and node addresses, DNS, Prometheus, Helm values, network zones and the peers no resource can name. Every field is optional; see the README for the format')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'Addresses of external hosts (`-` reads standard input): a YAML map from host name (or EdgeConnect host pattern) to a list of IPs or CIDRs')
            [CompletionResult]::new('--fqdn-fallback', '--fqdn-fallback', [CompletionResultType]::ParameterName, 'What to allow for a host without addresses. `public-internet`: its port to every public IPv4 and IPv6 address (not private, loopback, link-local or CGNAT ranges). Without this option such hosts are an error that lists them. (`verify` checks such hosts at a sample public address; without the option their flows are unchecked.)')
            [CompletionResult]::new('--zone-fallback', '--zone-fallback', [CompletionResultType]::ParameterName, 'The fallback mode of the network zones the DynaKubes name in spec.networkZone. `none`: OneAgents, code modules and log monitoring reach only the in-cluster ActiveGate (which must have the routing capability), so only the ActiveGate leaves the cluster for them. `any` (Dynatrace''s default) and `only-default-zone` let them reach the tenant too')
            [CompletionResult]::new('--operator-version', '--operator-version', [CompletionResultType]::ParameterName, 'The Dynatrace Operator release of the cluster, such as 1.9 or 1.10.2 (overrides operatorVersion in the cluster profile). Without either, the newest release that serves the DynaKubes'' API versions is assumed, and a note says so')
            [CompletionResult]::new('--proxy-url', '--proxy-url', [CompletionResultType]::ParameterName, 'The proxy URL of DynaKubes whose spec.proxy.valueFrom names a Secret, which this tool cannot read. Credentials, path and query in it are never written out')
            [CompletionResult]::new('--internal-host', '--internal-host', [CompletionResultType]::ParameterName, 'A host (name or IP address) to treat as internal, whatever its role: private addresses are accepted for it (a private link to the tenant, an Environment ActiveGate on a private address, a registry mirror). May be given more than once')
            [CompletionResult]::new('--max-input-bytes', '--max-input-bytes', [CompletionResultType]::ParameterName, 'The most bytes one input file may have (1 to 4294967296)')
            [CompletionResult]::new('--max-depth', '--max-depth', [CompletionResultType]::ParameterName, 'The deepest nesting of YAML flow collections ([...], {...}) a document may have (1 to 128: the YAML parser refuses any nesting, flow or block, deeper than 128 itself)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, '`text` or `json`')
            [CompletionResult]::new('--api-token-env', '--api-token-env', [CompletionResultType]::ParameterName, 'The environment variable that holds the API token for --apply (permissions networkZones.read and networkZones.write)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds each request of --apply may take, its answer read (1 to 300)')
            [CompletionResult]::new('--allow-any-address', '--allow-any-address', [CompletionResultType]::ParameterName, 'Accept address blocks of every address (0.0.0.0/0, ::/0) in the hosts file and the cluster profile. A rule with such a block admits the whole internet and the cluster network alike; without this option they are refused')
            [CompletionResult]::new('--allow-special-addresses', '--allow-special-addresses', [CompletionResultType]::ParameterName, 'Accept special-purpose addresses (loopback, link-local, private, CGNAT, IPv4-mapped, ...) for every host, wherever they come from: the hosts file, the lock file, DNS or an IP address in the resources. Without it, hosts on the internet (the tenant, communication endpoints, public registries, EdgeConnect''s platform hosts) may have none and no address of the cluster''s own, and no host may be loopback, link-local, multicast or IPv4-mapped')
            [CompletionResult]::new('--allow-shared-namespace', '--allow-shared-namespace', [CompletionResultType]::ParameterName, 'Accept an operator namespace the cluster or other software shares (default, kube-*, openshift, openshift-*). The policies put every pod of the operator namespace into default deny; without this option such namespaces are refused')
            [CompletionResult]::new('--ignore-unknown-fields', '--ignore-unknown-fields', [CompletionResultType]::ParameterName, 'Ignore fields that a resource''s API version does not declare, with a warning each, instead of refusing the resource (as `kubectl apply --validate=false` would keep it; the API server then drops the fields). A misspelled field usually means a component the policies do not open for')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Create the zones in the environments (needs --api-token-env)')
            [CompletionResult]::new('--insecure-http', '--insecure-http', [CompletionResultType]::ParameterName, 'For tests against a server on this machine: let --apply use an http:// API URL whose host is a loopback address (127.0.0.0/8, ::1). Any other http:// URL is refused, since the token would travel in cleartext')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'dynakube-netpol;lock' {
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The cluster profile (`-` reads standard input): namespace, operator release, kube-apiserver and node addresses, DNS, Prometheus, Helm values, network zones and the peers no resource can name. Every field is optional; see the README for the format')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'Addresses of external hosts (`-` reads standard input): a YAML map from host name (or EdgeConnect host pattern) to a list of IPs or CIDRs')
            [CompletionResult]::new('--fqdn-fallback', '--fqdn-fallback', [CompletionResultType]::ParameterName, 'What to allow for a host without addresses. `public-internet`: its port to every public IPv4 and IPv6 address (not private, loopback, link-local or CGNAT ranges). Without this option such hosts are an error that lists them. (`verify` checks such hosts at a sample public address; without the option their flows are unchecked.)')
            [CompletionResult]::new('--zone-fallback', '--zone-fallback', [CompletionResultType]::ParameterName, 'The fallback mode of the network zones the DynaKubes name in spec.networkZone. `none`: OneAgents, code modules and log monitoring reach only the in-cluster ActiveGate (which must have the routing capability), so only the ActiveGate leaves the cluster for them. `any` (Dynatrace''s default) and `only-default-zone` let them reach the tenant too')
            [CompletionResult]::new('--operator-version', '--operator-version', [CompletionResultType]::ParameterName, 'The Dynatrace Operator release of the cluster, such as 1.9 or 1.10.2 (overrides operatorVersion in the cluster profile). Without either, the newest release that serves the DynaKubes'' API versions is assumed, and a note says so')
            [CompletionResult]::new('--proxy-url', '--proxy-url', [CompletionResultType]::ParameterName, 'The proxy URL of DynaKubes whose spec.proxy.valueFrom names a Secret, which this tool cannot read. Credentials, path and query in it are never written out')
            [CompletionResult]::new('--internal-host', '--internal-host', [CompletionResultType]::ParameterName, 'A host (name or IP address) to treat as internal, whatever its role: private addresses are accepted for it (a private link to the tenant, an Environment ActiveGate on a private address, a registry mirror). May be given more than once')
            [CompletionResult]::new('--max-input-bytes', '--max-input-bytes', [CompletionResultType]::ParameterName, 'The most bytes one input file may have (1 to 4294967296)')
            [CompletionResult]::new('--max-depth', '--max-depth', [CompletionResultType]::ParameterName, 'The deepest nesting of YAML flow collections ([...], {...}) a document may have (1 to 128: the YAML parser refuses any nesting, flow or block, deeper than 128 itself)')
            [CompletionResult]::new('--lock', '--lock', [CompletionResultType]::ParameterName, 'The lock file: the addresses DNS gave for every host the policies need (default dynakube-netpol.lock in the current directory). Hosts it holds are never resolved again; hosts it lacks are resolved and added')
            [CompletionResult]::new('--nameserver', '--nameserver', [CompletionResultType]::ParameterName, 'A DNS server to ask instead of the system''s (IP, or IP:PORT; port 53 by default); may be given more than once. Implies the lock')
            [CompletionResult]::new('--dns-timeout', '--dns-timeout', [CompletionResultType]::ParameterName, 'Seconds one DNS query may take (1 to 60)')
            [CompletionResult]::new('--dns-parallelism', '--dns-parallelism', [CompletionResultType]::ParameterName, 'How many hosts are resolved at the same time (1 to 256)')
            [CompletionResult]::new('--allow-any-address', '--allow-any-address', [CompletionResultType]::ParameterName, 'Accept address blocks of every address (0.0.0.0/0, ::/0) in the hosts file and the cluster profile. A rule with such a block admits the whole internet and the cluster network alike; without this option they are refused')
            [CompletionResult]::new('--allow-special-addresses', '--allow-special-addresses', [CompletionResultType]::ParameterName, 'Accept special-purpose addresses (loopback, link-local, private, CGNAT, IPv4-mapped, ...) for every host, wherever they come from: the hosts file, the lock file, DNS or an IP address in the resources. Without it, hosts on the internet (the tenant, communication endpoints, public registries, EdgeConnect''s platform hosts) may have none and no address of the cluster''s own, and no host may be loopback, link-local, multicast or IPv4-mapped')
            [CompletionResult]::new('--allow-shared-namespace', '--allow-shared-namespace', [CompletionResultType]::ParameterName, 'Accept an operator namespace the cluster or other software shares (default, kube-*, openshift, openshift-*). The policies put every pod of the operator namespace into default deny; without this option such namespaces are refused')
            [CompletionResult]::new('--ignore-unknown-fields', '--ignore-unknown-fields', [CompletionResultType]::ParameterName, 'Ignore fields that a resource''s API version does not declare, with a warning each, instead of refusing the resource (as `kubectl apply --validate=false` would keep it; the API server then drops the fields). A misspelled field usually means a component the policies do not open for')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never use the network: hosts the lock and --hosts do not hold are an error naming them')
            [CompletionResult]::new('--allow-unresolved', '--allow-unresolved', [CompletionResultType]::ParameterName, 'Hosts DNS does not resolve (NXDOMAIN, SERVFAIL, timeout, empty answer) get no rule and a warning, instead of failing. (EdgeConnect forwarding targets always do.)')
            [CompletionResult]::new('--refresh', '--refresh', [CompletionResultType]::ParameterName, 'Resolve every host again and merge the answers into the lock')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Write nothing: exit 1 with a unified diff when --refresh would change the lock')
            [CompletionResult]::new('--prune', '--prune', [CompletionResultType]::ParameterName, 'With --refresh or --check: drop addresses DNS no longer gives, and hosts the policies no longer need')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'dynakube-netpol;helm-post-render' {
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The cluster profile (`-` reads standard input): namespace, operator release, kube-apiserver and node addresses, DNS, Prometheus, Helm values, network zones and the peers no resource can name. Every field is optional; see the README for the format')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'Addresses of external hosts (`-` reads standard input): a YAML map from host name (or EdgeConnect host pattern) to a list of IPs or CIDRs')
            [CompletionResult]::new('--fqdn-fallback', '--fqdn-fallback', [CompletionResultType]::ParameterName, 'What to allow for a host without addresses. `public-internet`: its port to every public IPv4 and IPv6 address (not private, loopback, link-local or CGNAT ranges). Without this option such hosts are an error that lists them. (`verify` checks such hosts at a sample public address; without the option their flows are unchecked.)')
            [CompletionResult]::new('--zone-fallback', '--zone-fallback', [CompletionResultType]::ParameterName, 'The fallback mode of the network zones the DynaKubes name in spec.networkZone. `none`: OneAgents, code modules and log monitoring reach only the in-cluster ActiveGate (which must have the routing capability), so only the ActiveGate leaves the cluster for them. `any` (Dynatrace''s default) and `only-default-zone` let them reach the tenant too')
            [CompletionResult]::new('--operator-version', '--operator-version', [CompletionResultType]::ParameterName, 'The Dynatrace Operator release of the cluster, such as 1.9 or 1.10.2 (overrides operatorVersion in the cluster profile). Without either, the newest release that serves the DynaKubes'' API versions is assumed, and a note says so')
            [CompletionResult]::new('--proxy-url', '--proxy-url', [CompletionResultType]::ParameterName, 'The proxy URL of DynaKubes whose spec.proxy.valueFrom names a Secret, which this tool cannot read. Credentials, path and query in it are never written out')
            [CompletionResult]::new('--internal-host', '--internal-host', [CompletionResultType]::ParameterName, 'A host (name or IP address) to treat as internal, whatever its role: private addresses are accepted for it (a private link to the tenant, an Environment ActiveGate on a private address, a registry mirror). May be given more than once')
            [CompletionResult]::new('--max-input-bytes', '--max-input-bytes', [CompletionResultType]::ParameterName, 'The most bytes one input file may have (1 to 4294967296)')
            [CompletionResult]::new('--max-depth', '--max-depth', [CompletionResultType]::ParameterName, 'The deepest nesting of YAML flow collections ([...], {...}) a document may have (1 to 128: the YAML parser refuses any nesting, flow or block, deeper than 128 itself)')
            [CompletionResult]::new('--flavor', '--flavor', [CompletionResultType]::ParameterName, 'The policy language')
            [CompletionResult]::new('--lock', '--lock', [CompletionResultType]::ParameterName, 'A lock file written by `dynakube-netpol lock`, for the addresses of the hosts that --hosts does not give. Read only: a post-renderer resolves nothing and writes nothing, so a host missing from both is an error (or, with --fqdn-fallback, public addresses)')
            [CompletionResult]::new('--allow-any-address', '--allow-any-address', [CompletionResultType]::ParameterName, 'Accept address blocks of every address (0.0.0.0/0, ::/0) in the hosts file and the cluster profile. A rule with such a block admits the whole internet and the cluster network alike; without this option they are refused')
            [CompletionResult]::new('--allow-special-addresses', '--allow-special-addresses', [CompletionResultType]::ParameterName, 'Accept special-purpose addresses (loopback, link-local, private, CGNAT, IPv4-mapped, ...) for every host, wherever they come from: the hosts file, the lock file, DNS or an IP address in the resources. Without it, hosts on the internet (the tenant, communication endpoints, public registries, EdgeConnect''s platform hosts) may have none and no address of the cluster''s own, and no host may be loopback, link-local, multicast or IPv4-mapped')
            [CompletionResult]::new('--allow-shared-namespace', '--allow-shared-namespace', [CompletionResultType]::ParameterName, 'Accept an operator namespace the cluster or other software shares (default, kube-*, openshift, openshift-*). The policies put every pod of the operator namespace into default deny; without this option such namespaces are refused')
            [CompletionResult]::new('--ignore-unknown-fields', '--ignore-unknown-fields', [CompletionResultType]::ParameterName, 'Ignore fields that a resource''s API version does not declare, with a warning each, instead of refusing the resource (as `kubectl apply --validate=false` would keep it; the API server then drops the fields). A misspelled field usually means a component the policies do not open for')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'dynakube-netpol;krm' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'dynakube-netpol;kustomize-transformer' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'dynakube-netpol;plugins' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Link this binary under the names kubectl and kustomize run it by: the kubectl plugin `kubectl-dynakube_netpol`, its completion `kubectl_complete-dynakube_netpol` and the KRM exec function `dynakube-netpol-krm` in --bin-dir, and the transformer plugin `NetworkPolicyGenerator` under kustomize''s plugin home')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'dynakube-netpol;plugins;install' {
            [CompletionResult]::new('--bin-dir', '--bin-dir', [CompletionResultType]::ParameterName, 'The directory of the kubectl plugin, its completion and the KRM function; kubectl finds plugins on PATH. Default: the directory on PATH through which this binary is found, else ~/.local/bin. Made when missing')
            [CompletionResult]::new('--kustomize-plugin-home', '--kustomize-plugin-home', [CompletionResultType]::ParameterName, 'kustomize''s plugin home. Default: the one kustomize reads, the first that exists of $KUSTOMIZE_PLUGIN_HOME, $XDG_CONFIG_HOME/kustomize/plugin, ~/.config/kustomize/plugin and ~/kustomize/plugin; when none exists, the first of the first three that is set (made)')
            [CompletionResult]::new('--copy', '--copy', [CompletionResultType]::ParameterName, 'Copy the binary instead of linking it, for file systems without links or images that keep the plugin home apart from the binary. A copy is not updated with the binary: after an upgrade, remove the copies and run this again')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'dynakube-netpol;plugins;help' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Link this binary under the names kubectl and kustomize run it by: the kubectl plugin `kubectl-dynakube_netpol`, its completion `kubectl_complete-dynakube_netpol` and the KRM exec function `dynakube-netpol-krm` in --bin-dir, and the transformer plugin `NetworkPolicyGenerator` under kustomize''s plugin home')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'dynakube-netpol;plugins;help;install' {
            break
        }
        'dynakube-netpol;plugins;help;help' {
            break
        }
        'dynakube-netpol;completions' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'dynakube-netpol;man' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on standard error but errors (notes and warnings stay in the output''s header)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also print what was read, skipped and written on standard error')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'dynakube-netpol;help' {
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Generate network policies from DynaKube and EdgeConnect resources')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check network policies against the matrix of DynaKube and EdgeConnect resources')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Report the pods the operator''s webhook left uninjected, and how to bring them back')
            [CompletionResult]::new('zone-plan', 'zone-plan', [CompletionResultType]::ParameterValue, 'Print, per network zone, what must exist in the Dynatrace environment before the policies and the DynaKubes are applied; with --apply, create it')
            [CompletionResult]::new('lock', 'lock', [CompletionResultType]::ParameterValue, 'Resolve the hosts the policies need into the lock file; refresh or check it')
            [CompletionResult]::new('helm-post-render', 'helm-post-render', [CompletionResultType]::ParameterValue, 'Helm post-renderer: the rendered release on standard input, written back unchanged, followed by the policies of its DynaKubes and EdgeConnects')
            [CompletionResult]::new('krm', 'krm', [CompletionResultType]::ParameterValue, 'KRM function: a ResourceList on standard input, the same list with the policies appended to its items on standard output')
            [CompletionResult]::new('kustomize-transformer', 'kustomize-transformer', [CompletionResultType]::ParameterValue, 'kustomize transformer plugin: resources on standard input, the resources and their policies on standard output; CONFIG is the NetworkPolicyGenerator config file')
            [CompletionResult]::new('plugins', 'plugins', [CompletionResultType]::ParameterValue, 'Set up the names under which kubectl and kustomize run this binary: its kubectl plugin, kubectl completion, KRM function and kustomize transformer plugin')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script of a shell')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write the man pages (dynakube-netpol.1 and one per subcommand) into DIR')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'dynakube-netpol;help;generate' {
            break
        }
        'dynakube-netpol;help;verify' {
            break
        }
        'dynakube-netpol;help;audit' {
            break
        }
        'dynakube-netpol;help;zone-plan' {
            break
        }
        'dynakube-netpol;help;lock' {
            break
        }
        'dynakube-netpol;help;helm-post-render' {
            break
        }
        'dynakube-netpol;help;krm' {
            break
        }
        'dynakube-netpol;help;kustomize-transformer' {
            break
        }
        'dynakube-netpol;help;plugins' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Link this binary under the names kubectl and kustomize run it by: the kubectl plugin `kubectl-dynakube_netpol`, its completion `kubectl_complete-dynakube_netpol` and the KRM exec function `dynakube-netpol-krm` in --bin-dir, and the transformer plugin `NetworkPolicyGenerator` under kustomize''s plugin home')
            break
        }
        'dynakube-netpol;help;plugins;install' {
            break
        }
        'dynakube-netpol;help;completions' {
            break
        }
        'dynakube-netpol;help;man' {
            break
        }
        'dynakube-netpol;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
