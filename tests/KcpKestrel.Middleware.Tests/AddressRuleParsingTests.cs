using System.Net;
using KcpKestrel.Middleware.Internal;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Middleware.Tests;

/// <summary>The address filter's entry parser and rule set, without sockets: what is accepted, what is refused and why.</summary>
public sealed class AddressRuleParsingTests
{
    [Theory]
    [InlineData("192.0.2.7", "192.0.2.7/32")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("255.255.255.255/32", "255.255.255.255/32")]
    [InlineData("100.64.0.0/10", "100.64.0.0/10")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    [InlineData("2001:0DB8:0000::/48", "2001:db8::/48")]
    [InlineData("::/0", "::/0")]
    [InlineData("::1", "::1/128")]
    [InlineData("::ffff:192.0.2.7", "192.0.2.7/32")]
    [InlineData("::ffff:10.0.0.0/104", "10.0.0.0/8")]
    [InlineData("::ffff:0.0.0.0/96", "0.0.0.0/0")]
    [InlineData("::ffff:a00:0/104", "10.0.0.0/8")]
    public void TryParse_AcceptedForm_ParsesToItsNetwork(string entry, string expected)
    {
        Assert.True(AddressPrefix.TryParse(entry, out var prefix, out var error), error);
        Assert.Equal(expected, prefix.Value.ToString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData(" ", "whitespace")]
    [InlineData(" 10.0.0.1", "whitespace")]
    [InlineData("10.0.0.1 ", "whitespace")]
    [InlineData("10.0.0.0 /8", "whitespace")]
    [InlineData("10.0.0.1\t", "whitespace")]
    [InlineData("010.0.0.1", "octet '010'")]
    [InlineData("10.0.0.01", "octet '01'")]
    [InlineData("10.1", "four")]
    [InlineData("10", "four")]
    [InlineData("167772161", "four")]
    [InlineData("0x0a.0.0.1", "octet '0x0a'")]
    [InlineData("10.0.0.256", "octet '256'")]
    [InlineData("1.2.3.4.5", "four")]
    [InlineData("10..0.1", "octet ''")]
    [InlineData("+10.0.0.1", "octet '+10'")]
    [InlineData("not-an-address", "four")]
    [InlineData("10.0.0.0/33", "prefix length '33'")]
    [InlineData("10.0.0.0/-1", "prefix length '-1'")]
    [InlineData("10.0.0.0/+8", "prefix length '+8'")]
    [InlineData("10.0.0.0/08", "prefix length '08'")]
    [InlineData("10.0.0.0/", "prefix length ''")]
    [InlineData("10.0.0.0/8/8", "prefix length '8/8'")]
    [InlineData("10.0.0.0/0x8", "prefix length '0x8'")]
    [InlineData("2001:db8::/129", "prefix length '129'")]
    [InlineData("2001:db8::/0128", "prefix length '0128'")]
    [InlineData("10.0.0.1/8", "past the /8 prefix (the network is 10.0.0.0/8")]
    [InlineData("192.0.2.128/24", "past the /24 prefix")]
    [InlineData("2001:db8::1/32", "past the /32 prefix (the network is 2001:db8::/32")]
    [InlineData("::ffff:10.0.0.1/104", "past the /104 prefix (the network is 10.0.0.0/8")]
    [InlineData("::ffff:10.0.0.0/95", "/96 or longer")]
    [InlineData("::ffff:010.0.0.1", "octet '010'")]
    [InlineData("::ffff:10.1", "four")]
    [InlineData("fe80::1%eth0", "zone ids")]
    [InlineData("fe80::1%2", "zone ids")]
    [InlineData("[::1]", "zone ids and brackets")]
    [InlineData("2001:db8:::1", "not a valid IPv6")]
    [InlineData("2001:db8::g", "'g'")]
    [InlineData("1:2:3:4:5:6:7:8:9", "not a valid IPv6")]
    public void TryParse_AmbiguousOrBadForm_FailsWithTheReason(string entry, string reason)
    {
        Assert.False(AddressPrefix.TryParse(entry, out var prefix, out var error));
        Assert.Null(prefix);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_Null_Fails() => Assert.False(AddressPrefix.TryParse(null, out _, out _));

    [Theory]
    [InlineData("10.0.0.0/8", "::ffff:10.0.0.1", true)]
    [InlineData("10.0.0.0/8", "::ffff:11.0.0.1", false)]
    [InlineData("::ffff:10.0.0.0/104", "10.0.0.1", true)]
    [InlineData("::ffff:10.0.0.0/104", "::ffff:10.255.0.1", true)]
    [InlineData("::ffff:10.0.0.0/104", "11.0.0.1", false)]
    [InlineData("::ffff:192.0.2.7", "192.0.2.7", true)]
    [InlineData("192.0.2.7", "::ffff:192.0.2.7", true)]
    [InlineData("::/0", "10.0.0.1", false)]
    [InlineData("::/0", "2001:db8::1", true)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]
    public void Contains_MappedAndUnmappedForms_MatchBothWays(string rule, string address, bool expected)
    {
        Assert.True(AddressPrefix.TryParse(rule, out var prefix, out var error), error);
        Assert.Equal(expected, prefix.Value.Contains(IPAddress.Parse(address)));
    }

    [Fact]
    public void RuleSet_NoAllowEntries_AllowsEveryAddressNotDenied()
    {
        var options = new AddressFilterOptions { Deny = { "192.0.2.0/24" } };
        Assert.True(AddressRuleSet.TryParse(options, AddressRuleSet.CodeKey, out var rules, out _));
        Assert.False(rules.HasAllowList);
        Assert.True(rules.IsAllowed(IPAddress.Parse("203.0.113.1")));
        Assert.True(rules.IsAllowed(IPAddress.Parse("2001:db8::1")));
        Assert.False(rules.IsAllowed(IPAddress.Parse("192.0.2.1")));
        Assert.False(rules.IsAllowed(IPAddress.Parse("::ffff:192.0.2.1")));
    }

    [Fact]
    public void RuleSet_AllowEntries_RefuseEveryoneElse()
    {
        var options = new AddressFilterOptions { Allow = { "10.0.0.0/8", "2001:db8::/32" }, Deny = { "10.9.0.0/16" } };
        Assert.True(AddressRuleSet.TryParse(options, AddressRuleSet.CodeKey, out var rules, out _));
        Assert.True(rules.HasAllowList);
        Assert.True(rules.IsAllowed(IPAddress.Parse("10.1.2.3")));
        Assert.True(rules.IsAllowed(IPAddress.Parse("::ffff:10.1.2.3")));
        Assert.True(rules.IsAllowed(IPAddress.Parse("2001:db8:5::1")));
        Assert.False(rules.IsAllowed(IPAddress.Parse("10.9.0.1")));
        Assert.False(rules.IsAllowed(IPAddress.Parse("127.0.0.1")));
        Assert.False(rules.IsAllowed(IPAddress.Parse("2001:db9::1")));
    }

    [Fact]
    public void RuleSet_AllowListOfOnlyBadEntries_IsRejectedNeverAllowAll()
    {
        var options = new AddressFilterOptions { Allow = { "10.0.0.0/33" } };
        Assert.False(AddressRuleSet.TryParse(options, AddressRuleSet.CodeKey, out var rules, out var errors));
        Assert.Null(rules);
        var error = Assert.Single(errors);
        Assert.StartsWith("AddressFilterOptions.Allow[0] = \"10.0.0.0/33\" is not valid (prefix length '33'", error, StringComparison.Ordinal);
        Assert.Contains("; accepted: an IPv4 address in canonical dotted-quad form", error, StringComparison.Ordinal);
    }

    [Fact]
    public void RuleSet_SeveralBadEntries_NamesEachOne()
    {
        var options = new AddressFilterOptions { Allow = { "10.0.0.0/8", "010.0.0.1" }, Deny = { "", "192.0.2.1/24" } };
        Assert.False(AddressRuleSet.TryParse(options, AddressRuleSet.CodeKey, out _, out var errors));
        Assert.Collection(
            errors,
            e => Assert.StartsWith("AddressFilterOptions.Allow[1] = \"010.0.0.1\" is not valid", e, StringComparison.Ordinal),
            e => Assert.StartsWith("AddressFilterOptions.Deny[0] = \"\" is not valid (the entry is empty)", e, StringComparison.Ordinal),
            e => Assert.StartsWith("AddressFilterOptions.Deny[1] = \"192.0.2.1/24\" is not valid", e, StringComparison.Ordinal));
    }

    [Fact]
    public void ConfigurationValidator_BadEntry_NamesItsConfigurationKey()
    {
        // Only key 3 exists, so the bound list holds it at index 0: the message must still say Allow:3.
        var section = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["AddressFilter:Allow:3"] = "10.0.0.0/33",
                ["AddressFilter:Deny:0"] = "192.0.2.0/24",
                ["AddressFilter:Deny:1"] = "0x0a.0.0.1",
            })
            .Build()
            .GetSection("AddressFilter");
        using var services = new ServiceCollection().AddAddressFilter(section).Services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptionsFactory<AddressFilterOptions>>().Create(Options.DefaultName));
        Assert.Collection(
            e.Failures,
            f => Assert.StartsWith("AddressFilter:Allow:3 = \"10.0.0.0/33\" is not valid", f, StringComparison.Ordinal),
            f => Assert.StartsWith("AddressFilter:Deny:1 = \"0x0a.0.0.1\" is not valid", f, StringComparison.Ordinal));
    }

    [Fact]
    public void ConfigurationValidator_OtherOptionsName_IsNotChecked()
    {
        var section = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Edge:Allow:0"] = "10.0.0.0/33" })
            .Build()
            .GetSection("Edge");
        using var services = new ServiceCollection().AddAddressFilter("edge", section).Services.BuildServiceProvider();
        var factory = services.GetRequiredService<IOptionsFactory<AddressFilterOptions>>();

        Assert.Empty(factory.Create(Options.DefaultName).Allow);
        var e = Assert.Throws<OptionsValidationException>(() => factory.Create("edge"));
        Assert.StartsWith("Edge:Allow:0 = \"10.0.0.0/33\"", Assert.Single(e.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public void UseAddressFilter_CodeOptionsWithBadEntry_ThrowsAtSetupNamingIt()
    {
        using var services = new ServiceCollection().BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => new ConnectionBuilder(services).UseAddressFilter(o => o.Allow.Add("10.0.0.0/33")));
        Assert.StartsWith("AddressFilterOptions.Allow[0] = \"10.0.0.0/33\" is not valid", Assert.Single(e.Failures), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.0/8", "::ffff:10.0.0.1", true)]
    [InlineData("10.0.0.0/8", "::ffff:11.0.0.1", false)]
    [InlineData("::ffff:10.0.0.0/104", "10.0.0.1", true)]
    [InlineData("::ffff:10.0.0.0/104", "11.0.0.1", false)]
    [InlineData("2001:db8::/32", "2001:db8::1", true)]
    [InlineData("2001:db8::/32", "10.0.0.1", false)]
    public async Task UseAddressFilter_MappedAndUnmappedPeers_MatchBothWays(string allow, string peer, bool expected)
    {
        using var services = new ServiceCollection().BuildServiceProvider();
        var reached = 0;
        var pipeline = new ConnectionBuilder(services)
            .UseAddressFilter(o => o.Allow.Add(allow))
            .Run(_ =>
            {
                reached++;
                return Task.CompletedTask;
            })
            .Build();

        await pipeline(new DefaultConnectionContext("c") { RemoteEndPoint = new IPEndPoint(IPAddress.Parse(peer), 5000) });
        Assert.Equal(expected ? 1 : 0, reached);
    }
}
