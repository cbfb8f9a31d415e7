using System.Text;
using KcpKestrel.Multicast;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace MulticastChat;

/// <summary>Prints what arrives through the channel; stops the app after <c>--count</c> messages (0: never).</summary>
internal sealed class ChatSubscriber(MulticastChannelReceiver receiver, MulticastTransport transport, IConfiguration configuration, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var count = configuration.GetValue("count", 0);

        // The transport joined when the host started it (before this service): a publisher started now is heard.
        Console.WriteLine($"subscribed: {transport.Group}");
        var received = 0;
        await foreach (var message in receiver.Reader.ReadAllAsync(stoppingToken))
        {
            using (message)
            {
                Console.WriteLine($"received: {Encoding.UTF8.GetString(message.Payload.Span)}");
            }

            if (++received == count)
            {
                lifetime.StopApplication();
                return;
            }
        }
    }
}
