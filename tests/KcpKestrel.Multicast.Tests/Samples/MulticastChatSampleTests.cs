using System.Collections.Concurrent;
using System.Diagnostics;
using KcpKestrel.Multicast.Tests.Harness;

namespace KcpKestrel.Multicast.Tests.Samples;

/// <summary>samples/MulticastChat as users run it: a subscriber process, then a publisher process.</summary>
public sealed class MulticastChatSampleTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Count = 5;

    [Fact]
    public async Task PublishProcess_SubscribeProcessPrintsEveryMessageInOrder()
    {
        string[] group = ["--Multicast:Group", LoopbackGroup.V4(node: 1).Group!];
        var lines = new ConcurrentQueue<string>();
        using var subscriber = Process.Start(Chat(["subscribe", "--count", $"{Count}", .. group]))!;
        try
        {
            subscriber.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lines.Enqueue(e.Data);
                }
            };
            subscriber.BeginOutputReadLine();
            subscriber.BeginErrorReadLine();
            await TestWaits.WaitUntilAsync(() => lines.Any(l => l.StartsWith("subscribed:", StringComparison.Ordinal)), "the subscriber to join");

            var (exitCode, stdout, stderr) = await TestProcess.RunAsync(
                Chat(["publish", "--count", $"{Count}", "--text", "chat", "--interval-ms", "10", "--linger-ms", "300", .. group]), TestWaits.Bound);
            output.WriteLine(stdout + stderr);
            Assert.Equal(0, exitCode);

            using var cts = new CancellationTokenSource(TestWaits.Bound);
            await subscriber.WaitForExitAsync(cts.Token);
            output.WriteLine(string.Join('\n', lines));
            Assert.Equal(0, subscriber.ExitCode);
            var received = lines.Where(l => l.StartsWith("received: ", StringComparison.Ordinal)).ToList();
            Assert.Equal(Enumerable.Range(0, Count).Select(i => $"received: chat #{i}"), received);
        }
        finally
        {
            if (!subscriber.HasExited)
            {
                subscriber.Kill(entireProcessTree: true);
            }
        }
    }

    private static ProcessStartInfo Chat(string[] args) =>
        TestProcess.StartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "MulticastChat.dll"), .. args]);
}
