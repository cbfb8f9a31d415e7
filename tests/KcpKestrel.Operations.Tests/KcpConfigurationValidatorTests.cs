using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Hosting;
using Microsoft.Extensions.Configuration;

namespace KcpKestrel.Operations.Tests;

/// <summary>
/// The start-up validator on its own (no host): which failures it reports, how many, and under which key.
/// The host-level tests in <see cref="ConfigurationTests"/> show one failure reaching start-up.
/// </summary>
public sealed class KcpConfigurationValidatorTests
{
    [Fact]
    public void Validate_GoodConfiguration_Succeeds()
    {
        var result = Validate(new()
        {
            ["Kcp:Defaults:Crypt"] = "none",
            ["Kcp:Endpoints:Game:Url"] = "kcp://127.0.0.1:4000",
            ["Kcp:Endpoints:Game:Mtu"] = "1200",
            ["Kcp:Endpoints:Chat:Url"] = "kcp://*:4001",
            ["Kcp:Endpoints:Chat:Protocols"] = "Http1AndHttp2",
        });

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_SeveralProblems_ReportsEachUnderItsKey()
    {
        var result = Validate(new()
        {
            ["Kcp:Defaults:Crypt"] = "none",
            ["Kcp:Defaults:SendWndow"] = "64",
            ["Kcp:Endpoints:Game:Url"] = "kcp://127.0.0.1:4000",
            ["Kcp:Endpoints:Game:Mtu"] = "99",
            ["Kcp:Endpoints:Chat:Mtu"] = "1200",
            ["Kcp:Endpoints:Voice:Url"] = "kcp://127.0.0.1:4002",
            ["Kcp:Endpoints:Voice:Protocols"] = "Http9",
        });

        Assert.True(result.Failed);
        var failures = result.Failures!.ToArray();
        Assert.Equal(4, failures.Length);
        Assert.Contains(failures, f => f.StartsWith("Kcp:Defaults:SendWndow is not a KCP setting", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Kcp:Endpoints:Game:Mtu = 99 is not valid; accepted: 100 to 1500", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Kcp:Endpoints:Chat:Url is missing", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Kcp:Endpoints:Voice:Protocols = Http9 is not valid", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_BadDefault_IsReportedOnceNotPerEndpoint()
    {
        var result = Validate(
            new()
            {
                ["Kcp:Defaults:Crypt"] = "none",
                ["Kcp:Defaults:DeadLink"] = "0",
                ["Kcp:Endpoints:Game:Url"] = "kcp://127.0.0.1:4000",
                ["Kcp:Endpoints:Chat:Url"] = "kcp://127.0.0.1:4001",
            },
            defaults => defaults.DeadLink = 0);

        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith("Kcp:Defaults:DeadLink = 0 is not valid", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_EndpointRepeatsBadDefault_IsReportedForBoth()
    {
        var result = Validate(
            new()
            {
                ["Kcp:Defaults:Crypt"] = "none",
                ["Kcp:Defaults:DeadLink"] = "0",
                ["Kcp:Endpoints:Game:Url"] = "kcp://127.0.0.1:4000",
                ["Kcp:Endpoints:Game:DeadLink"] = "0",
            },
            defaults => defaults.DeadLink = 0);

        Assert.Equal(2, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.StartsWith("Kcp:Endpoints:Game:DeadLink = 0", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_EndpointOverridesBadDefault_OnlyTheDefaultFails()
    {
        var result = Validate(
            new()
            {
                ["Kcp:Defaults:Crypt"] = "none",
                ["Kcp:Defaults:Mtu"] = "50",
                ["Kcp:Endpoints:Game:Url"] = "kcp://127.0.0.1:4000",
                ["Kcp:Endpoints:Game:Mtu"] = "1200",
            },
            defaults => defaults.Mtu = 50);

        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith("Kcp:Defaults:Mtu = 50", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ValueThatDoesNotBind_NamesTheEndpoint()
    {
        var result = Validate(new()
        {
            ["Kcp:Defaults:Crypt"] = "none",
            ["Kcp:Endpoints:Game:Url"] = "kcp://127.0.0.1:4000",
            ["Kcp:Endpoints:Game:Mtu"] = "big",
        });

        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith("Kcp:Endpoints:Game: ", failure, StringComparison.Ordinal);
        Assert.Contains("'Kcp:Endpoints:Game:Mtu'", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DefaultsWithoutKey_AreCheckedPerEndpoint()
    {
        var result = Validate(new()
        {
            ["Kcp:Endpoints:Game:Url"] = "kcp://127.0.0.1:4000",
            ["Kcp:Endpoints:Chat:Url"] = "kcp://127.0.0.1:4001",
            ["Kcp:Endpoints:Chat:Key"] = "secret",
        });

        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith("Kcp:Endpoints:Game:Key = (empty) is not valid", failure, StringComparison.Ordinal);
    }

    private static Microsoft.Extensions.Options.ValidateOptionsResult Validate(Dictionary<string, string?> values, Action<KcpOptions>? defaults = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var section = configuration.GetSection(KcpConfiguration.SectionName);
        var options = new KcpTransportOptions();
        options.Defaults.Crypt = section[$"{KcpConfiguration.DefaultsKey}:Crypt"] ?? options.Defaults.Crypt;
        defaults?.Invoke(options.Defaults);
        return new KcpConfigurationValidator(section).Validate(name: null, options);
    }
}
