using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Transport.Kcp.Hosting;

/// <summary>
/// Checks the <c>Kcp</c> section at start-up (ValidateOnStart): every message names the
/// configuration key and the value, so a bad deployment fails before it serves anything.
/// </summary>
internal sealed class KcpConfigurationValidator(IConfiguration kcpSection) : IValidateOptions<KcpTransportOptions>
{
    public ValidateOptionsResult Validate(string? name, KcpTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var sectionPath = KcpConfiguration.SectionName;

        foreach (var child in kcpSection.GetChildren())
        {
            if (child.Key.Equals(KcpConfiguration.DefaultsKey, StringComparison.OrdinalIgnoreCase)
                || child.Key.Equals(KcpConfiguration.EndpointsKey, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            failures.Add(KcpConfiguration.IsSetting(child.Key)
                ? $"{sectionPath}:{child.Key} is no longer read: KCP settings moved to {sectionPath}:{KcpConfiguration.DefaultsKey}:{child.Key} (or {sectionPath}:{KcpConfiguration.EndpointsKey}:<name>:{child.Key})."
                : $"{sectionPath}:{child.Key} is not a KCP configuration key; accepted: {KcpConfiguration.DefaultsKey}, {KcpConfiguration.EndpointsKey}.");
        }

        var defaultsPath = $"{sectionPath}:{KcpConfiguration.DefaultsKey}";
        CheckUnknownKeys(kcpSection.GetSection(KcpConfiguration.DefaultsKey), defaultsPath, endpoint: false, failures);

        // Endpoints set in code may supply the key, so the defaults alone need not have one.
        var defaults = options.Defaults.Clone();
        if (string.IsNullOrEmpty(defaults.Key))
        {
            defaults.Key = "(checked per endpoint)";
        }

        var defaultsError = Check(defaults, defaultsPath);
        if (defaultsError is not null)
        {
            failures.Add(defaultsError.Value.Message);
        }

        foreach (var endpoint in KcpConfiguration.GetEndpoints(kcpSection))
        {
            var path = $"{sectionPath}:{KcpConfiguration.EndpointsKey}:{endpoint.Name}";
            var url = endpoint.Section[KcpConfiguration.UrlKey];
            if (url is null)
            {
                failures.Add($"{path}:{KcpConfiguration.UrlKey} is missing; accepted: {KcpConfiguration.UrlFormat}.");
            }
            else if (!KcpConfiguration.TryParseUrl(url, out _, out _))
            {
                failures.Add($"{path}:{KcpConfiguration.UrlKey} = {url} is not valid; accepted: {KcpConfiguration.UrlFormat}.");
            }

            var protocols = endpoint.Section[KcpConfiguration.ProtocolsKey];
            if (protocols is not null && !KcpConfiguration.TryParseProtocols(protocols, out _))
            {
                failures.Add($"{path}:{KcpConfiguration.ProtocolsKey} = {protocols} is not valid; accepted: None, Http1, Http2, Http1AndHttp2.");
            }

            CheckUnknownKeys(endpoint.Section, path, endpoint: true, failures);

            var merged = options.Defaults.Clone();
            try
            {
                KcpConfiguration.BindSettings(endpoint.Section, merged);
            }
            catch (InvalidOperationException e)
            {
                failures.Add($"{path}: {e.Message}");
                continue;
            }

            var error = Check(merged, path);
            if (error is { } bad && (defaultsError is null || defaultsError.Value.Setting != bad.Setting || endpoint.Section[bad.Setting] is not null))
            {
                failures.Add(bad.Message);
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static (string Setting, string Message)? Check(KcpOptions options, string path) =>
        options.TryValidate(out var error)
            ? null
            : (error.Setting, $"{path}:{error.Setting} = {error.Value} is not valid; accepted: {error.Accepted}.");

    private static void CheckUnknownKeys(IConfigurationSection section, string path, bool endpoint, List<string> failures)
    {
        foreach (var child in section.GetChildren())
        {
            if (KcpConfiguration.IsSetting(child.Key)
                || (endpoint && (child.Key.Equals(KcpConfiguration.UrlKey, StringComparison.OrdinalIgnoreCase)
                    || child.Key.Equals(KcpConfiguration.ProtocolsKey, StringComparison.OrdinalIgnoreCase))))
            {
                continue;
            }

            var accepted = string.Join(", ", KcpConfiguration.SettingNames);
            failures.Add(endpoint
                ? $"{path}:{child.Key} is not a KCP endpoint setting; accepted: {KcpConfiguration.UrlKey}, {KcpConfiguration.ProtocolsKey}, {accepted}."
                : $"{path}:{child.Key} is not a KCP setting; accepted: {accepted}.");
        }
    }
}
