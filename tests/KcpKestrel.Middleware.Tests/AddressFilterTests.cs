using System.Net;
using KcpKestrel.Middleware.Internal;
using KcpKestrel.Middleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

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

    private static async Task AssertAllAsync(ThreeListenerHost host, bool expectAccepted)
    {
        foreach (var listener in ThreeListenerHost.All)
        {
            await using var client = await host.ConnectAsync(listener);
            Assert.Equal(expectAccepted, await client.ReadGreetingAsync(Step));
        }
    }
}
