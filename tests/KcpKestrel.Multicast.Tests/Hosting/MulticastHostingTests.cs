using KcpKestrel.Multicast.Tests.Harness;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Multicast.Tests.Hosting;

public sealed class MulticastHostingTests
{
    [Fact]
    public async Task SettingOutOfRange_StopsStartUpNamingIt()
    {
        var section = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Multicast:Group"] = "239.255.1.1:40100", ["Multicast:DatagramSize"] = "100" })
            .Build().GetSection("Multicast");
        using var host = Host.CreateDefaultBuilder().ConfigureServices(s => s.AddMulticast(section)).Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(nameof(MulticastOptions.DatagramSize), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GroupMissing_StopsStartUp()
    {
        using var host = Host.CreateDefaultBuilder().ConfigureServices(s => s.AddMulticast(_ => { })).Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(nameof(MulticastOptions.Group), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostedTransport_DeliversToTheRegisteredReceiver()
    {
        var group = LoopbackGroup.V4(node: 2);
        var receiver = new CheckingReceiver();
        using var host = Host.CreateDefaultBuilder()
            .ConfigureServices(s => s.AddSingleton<IMulticastReceiver>(receiver).AddMulticast(o => (o.Group, o.Interface, o.NodeId, o.Join) = (group.Group, group.Interface, 2, MulticastJoin.Beginning)))
            .Build();
        await host.StartAsync();
        using (var publisher = new MulticastTransport(LoopbackGroup.Member(group, node: 1)))
        {
            var message = new byte[70];
            for (var i = 0; i < 100; i++)
            {
                publisher.Offer(message.AsSpan(0, SequenceMessages.Write(message, i, message.Length)), topic: 1, flush: true);
            }

            await TestWaits.WaitUntilAsync(() => receiver.Next >= 100, "100 messages at the hosted subscriber");
        }

        Assert.Equal(100, receiver.InOrder);
        Assert.Same(host.Services.GetRequiredService<MulticastTransport>(), host.Services.GetRequiredService<MulticastTransport>());
        await host.StopAsync();
    }
}
