using System.Net;
using KcpKestrel.Middleware.Internal;
using KcpKestrel.Middleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Middleware.Tests;

public sealed class AddressFilterTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task DenyEntryAddedToConfiguration_AppliesToTheNextConnection_WithoutRestart()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["AddressFilter:Deny:0"] = "192.0.2.0/24" })
            .Build();
        await using var host = await ThreeListenerHost.StartAsync(
            l => l.UseAddressFilter(),
            s => s.Configure<AddressFilterOptions>(configuration.GetSection("AddressFilter")));
        using var refused = MetricsReader.Collect<long>(host.Services, "kcpkestrel.connections.refused");

        await AssertAllAsync(host, expectAccepted: true);

        configuration["AddressFilter:Deny:1"] = "127.0.0.0/8";
        configuration.Reload();
        await AssertAllAsync(host, expectAccepted: false);
        foreach (var listener in ThreeListenerHost.All)
        {
            Assert.Equal(1, MetricsReader.Sum(refused, "endpoint", host.EndpointTag(listener), "address_denied"));
        }

        configuration["AddressFilter:Deny:1"] = "10.0.0.0/8";
        configuration.Reload();
        await AssertAllAsync(host, expectAccepted: true);
        Assert.Equal(3, refused.GetMeasurementSnapshot().Count);
    }

    [Fact]
    public async Task AllowList_RefusesEveryoneElse()
    {
        await using var host = await ThreeListenerHost.StartAsync(l => l.UseAddressFilter(o => o.Allow.Add("10.0.0.0/8")));
        using var refused = MetricsReader.Collect<long>(host.Services, "kcpkestrel.connections.refused");
        await AssertAllAsync(host, expectAccepted: false);
        Assert.Equal(3, refused.GetMeasurementSnapshot().Count);
    }

    [Theory]
    [InlineData("Allow", "10.0.0.0/33", "prefix length '33'")]
    [InlineData("Allow", "2001:db8::/129", "prefix length '129'")]
    [InlineData("Allow", "10.0.0.0/-1", "prefix length '-1'")]
    [InlineData("Allow", "10.0.0.0/08", "prefix length '08'")]
    [InlineData("Allow", "010.0.0.1", "octet '010'")]
    [InlineData("Allow", "10.1", "four")]
    [InlineData("Allow", "0x0a.0.0.1", "octet '0x0a'")]
    [InlineData("Allow", "10.0.0.1/8", "past the /8 prefix")]
    [InlineData("Allow", "", "empty")]
    [InlineData("Allow", " 10.0.0.1", "whitespace")]
    [InlineData("Deny", "192.0.2.0/33", "prefix length '33'")]
    [InlineData("Deny", "::ffff:010.0.0.1", "octet '010'")]
    [InlineData("Deny", "fe80::1%eth0", "zone ids")]
    public async Task Startup_BadConfiguredEntry_FailsNamingTheKey(string list, string entry, string reason)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["AddressFilter:Allow:0"] = "127.0.0.0/8",
                [$"AddressFilter:{list}:1"] = entry,
            })
            .Build();
        using var host = SocketsHost(s => s.AddAddressFilter(configuration.GetSection("AddressFilter")));

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        var failure = Assert.Single(e.Failures);
        Assert.StartsWith($"AddressFilter:{list}:1 = \"{entry}\" is not valid (", failure, StringComparison.Ordinal);
        Assert.Contains(reason, failure, StringComparison.Ordinal);
        Assert.Contains("; accepted: an IPv4 address in canonical dotted-quad form", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Startup_BadEntryBoundWithoutAddAddressFilter_FailsAtBindNamingTheEntry()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["AddressFilter:Allow:0"] = "10.0.0.0/33" })
            .Build();
        using var host = SocketsHost(s => s.Configure<AddressFilterOptions>(configuration.GetSection("AddressFilter")));

        // Without the configuration validator the check runs when Kestrel builds the listener's pipeline, still
        // before anything is served, and knows only the options' list index.
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.StartsWith("AddressFilterOptions.Allow[0] = \"10.0.0.0/33\" is not valid", Assert.Single(e.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_WithBadEntry_KeepsThePreviousRulesAndLogsAnError()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["AddressFilter:Deny:0"] = "127.0.0.0/8" })
            .Build();
        await using var host = await ThreeListenerHost.StartAsync(
            l => l.UseAddressFilter(),
            s => s.AddAddressFilter(configuration.GetSection("AddressFilter")),
            b => b.AddFakeLogging().AddFilter("KcpKestrel.Middleware", LogLevel.Information));
        var logs = host.Services.GetFakeLogCollector();
        await AssertAllAsync(host, expectAccepted: false);

        // A typo that would have dropped the deny entry (and with it, the filter) is refused instead.
        configuration["AddressFilter:Deny:0"] = "127.0.0.0/33";
        ReloadIgnoringTheMonitor(configuration);
        await AssertAllAsync(host, expectAccepted: false);

        // One error per listener (each has its own filter).
        var rejected = logs.GetSnapshot().Where(r => r.Id.Id == 6).ToList();
        Assert.Equal(ThreeListenerHost.All.Length, rejected.Count);
        Assert.All(rejected, record =>
        {
            Assert.Equal(LogLevel.Error, record.Level);
            Assert.Contains("reload rejected, the previous rules stay in force: AddressFilter:Deny:0 = \"127.0.0.0/33\" is not valid", record.Message, StringComparison.Ordinal);
        });

        // An allow list whose only entry is bad never becomes "allow everyone".
        configuration["AddressFilter:Deny:0"] = "192.0.2.0/24";
        configuration["AddressFilter:Allow:0"] = "127.0.0.1/8";
        ReloadIgnoringTheMonitor(configuration);
        await AssertAllAsync(host, expectAccepted: false);
        Assert.Equal(2 * ThreeListenerHost.All.Length, logs.GetSnapshot().Count(r => r.Id.Id == 6));

        // A good reload applies.
        configuration["AddressFilter:Allow:0"] = "127.0.0.0/8";
        configuration.Reload();
        await AssertAllAsync(host, expectAccepted: true);
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == 4);
    }

    [Fact]
    public async Task Reload_ToAnAllowListOfOnlyBadEntries_KeepsNoAllowListInsteadOfAllowingAFallback()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["AddressFilter:Allow:0"] = "127.0.0.1" })
            .Build();
        await using var host = await ThreeListenerHost.StartAsync(
            l => l.UseAddressFilter(),
            s => s.Configure<AddressFilterOptions>(configuration.GetSection("AddressFilter")),
            b => b.AddFakeLogging().AddFilter("KcpKestrel.Middleware", LogLevel.Information));
        var logs = host.Services.GetFakeLogCollector();
        await AssertAllAsync(host, expectAccepted: true);

        // Without AddAddressFilter (no validator) the middleware's own parse refuses the reload.
        configuration["AddressFilter:Allow:0"] = "10.0.0.0/33";
        configuration.Reload();
        await AssertAllAsync(host, expectAccepted: true);
        var rejected = logs.GetSnapshot().Where(r => r.Id.Id == 6).ToList();
        Assert.Equal(ThreeListenerHost.All.Length, rejected.Count);
        Assert.All(rejected, r => Assert.Contains("AddressFilterOptions.Allow[0] = \"10.0.0.0/33\" is not valid", r.Message, StringComparison.Ordinal));

        configuration["AddressFilter:Allow:0"] = "10.0.0.0/8";
        configuration.Reload();
        await AssertAllAsync(host, expectAccepted: false);
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.200.3.4", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("192.0.2.7", "192.0.2.7", true)]
    [InlineData("192.0.2.7", "192.0.2.8", false)]
    [InlineData("192.0.2.0/25", "192.0.2.127", true)]
    [InlineData("192.0.2.0/25", "192.0.2.128", false)]
    [InlineData("0.0.0.0/0", "203.0.113.9", true)]
    [InlineData("2001:db8::/32", "2001:db8:ffff::1", true)]
    [InlineData("2001:db8::/32", "2001:db9::1", false)]
    [InlineData("::ffff:10.1.2.3", "10.1.2.3", true)]
    [InlineData("10.0.0.0/8", "::1", false)]
    public void Prefix_Matching_FollowsTheMask(string rule, string address, bool expected)
    {
        Assert.True(AddressPrefix.TryParse(rule, out var prefix));
        Assert.Equal(expected, prefix.Value.Contains(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-an-address")]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("2001:db8::/129")]
    public void BadEntries_DoNotParse(string rule) => Assert.False(AddressPrefix.TryParse(rule, out _));

    [Fact]
    public void Network_MasksToThePrefix()
    {
        Assert.Equal(IPAddress.Parse("198.51.100.0"), AddressPrefix.Network(IPAddress.Parse("198.51.100.77"), 24));
        Assert.Equal(IPAddress.Parse("2001:db8:1:2::"), AddressPrefix.Network(IPAddress.Parse("2001:db8:1:2:3:4:5:6"), 64));
    }

    /// <summary>
    /// Reloads configuration that the address filter will refuse. With ValidateOnStart the options monitor
    /// exists too, and it rethrows the validation failure to whoever reloads (Microsoft.Extensions.Options
    /// behaviour); the filter, which follows the change tokens itself, has logged and kept its rules by then.
    /// </summary>
    private static void ReloadIgnoringTheMonitor(IConfigurationRoot configuration)
    {
        var e = Record.Exception(configuration.Reload);
        if (e is not null)
        {
            Assert.Contains(Flatten(e), x => x is OptionsValidationException);
        }

        static IEnumerable<Exception> Flatten(Exception e) =>
            e is AggregateException a ? a.InnerExceptions.SelectMany(Flatten) : e.InnerException is null ? [e] : [e, .. Flatten(e.InnerException)];
    }

    private static IHost SocketsHost(Action<IServiceCollection> services) =>
        new HostBuilder()
            .ConfigureWebHost(web => web
                .UseKestrel(o => o.Listen(IPAddress.Loopback, 0, l => l.UseAddressFilter().Run(_ => Task.CompletedTask)))
                .ConfigureServices(services)
                .Configure(_ => { }))
            .Build();

    private static async Task AssertAllAsync(ThreeListenerHost host, bool expectAccepted)
    {
        foreach (var listener in ThreeListenerHost.All)
        {
            await using var client = await host.ConnectAsync(listener);
            Assert.Equal(expectAccepted, await client.ReadGreetingAsync(Step));
        }
    }
}
