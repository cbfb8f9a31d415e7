// Publish and subscribe across two processes on one machine, over a loopback multicast group:
//   dotnet run -c Release -- subscribe --count 3
//   dotnet run -c Release -- publish --count 3 --text hello
// The transport is the hosted one (AddMulticast, options from configuration: --Multicast:Group,
// --Multicast:NodeId, ...). The subscriber reads through a ChannelReader; with --bridge-port it also
// serves the topic to TCP clients through the Kestrel bridge (4-byte big-endian length prefix).
using System.Net;
using KcpKestrel.Multicast;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MulticastChat;

var mode = args.Length > 0 ? args[0] : "";
if (mode is not ("publish" or "subscribe"))
{
    Console.Error.WriteLine("usage: MulticastChat publish|subscribe [--count N] [--text T] [--bridge-port P] [--Multicast:Group 239.255.77.1:41977]");
    return 2;
}

var defaults = new Dictionary<string, string?>
{
    ["Multicast:Group"] = "239.255.77.1:41977",
    ["Multicast:Interface"] = "127.0.0.1",
    ["Multicast:NodeId"] = mode == "publish" ? "1" : "2",
    ["Multicast:Join"] = nameof(MulticastJoin.Beginning),
};
var configuration = new ConfigurationBuilder().AddInMemoryCollection(defaults).AddCommandLine(args[1..]).Build();
var bridgePort = configuration.GetValue<int?>("bridge-port");
var builder = Host.CreateDefaultBuilder().ConfigureAppConfiguration(c => c.AddConfiguration(configuration)).ConfigureServices(services =>
{
    services.AddMulticast(configuration.GetSection("Multicast"));
    if (mode == "publish")
    {
        services.AddHostedService<ChatPublisher>();
        return;
    }

    // Registered before AddMulticastBridge, the channel receiver gets every message the bridge gets.
    var receiver = new MulticastChannelReceiver();
    services.AddSingleton(receiver).AddSingleton<IMulticastReceiver>(receiver);
    services.AddHostedService<ChatSubscriber>();
    if (bridgePort is not null)
    {
        services.AddMulticastBridge();
    }
});
if (mode == "subscribe" && bridgePort is { } port)
{
    // Only the bridge needs Kestrel: each TCP client of this port gets the chat topic, length-prefixed.
    builder.ConfigureWebHost(web => web
        .UseKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseMulticastBridge(ChatTopic.Value)))
        .Configure(_ => { }));
}

await builder.Build().RunAsync();
return 0;
