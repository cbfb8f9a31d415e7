using System.Text;
using KcpKestrel.Multicast;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace MulticastChat;

/// <summary>Publishes <c>--count</c> messages "<c>--text</c> #i", then stays a moment to answer NAKs and stops the app.</summary>
internal sealed class ChatPublisher(MulticastTransport transport, IConfiguration configuration, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var count = configuration.GetValue("count", 5);
        var text = configuration.GetValue("text", "hello")!;
        for (var i = 0; i < count && !stoppingToken.IsCancellationRequested; i++)
        {
            // flush: a chat line goes out now rather than waiting for a batch to fill.
            transport.Offer(Encoding.UTF8.GetBytes($"{text} #{i}"), ChatTopic.Value, flush: true);
            Console.WriteLine($"published: {text} #{i}");
            await Task.Delay(configuration.GetValue("interval-ms", 50), stoppingToken);
        }

        // A subscriber that lost a packet NAKs it within milliseconds: stay to resend it.
        await Task.Delay(configuration.GetValue("linger-ms", 1000), stoppingToken);
        lifetime.StopApplication();
    }
}
