using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Tests.Infrastructure;

/// <summary>
/// Echoes, recording the name of the thread each read resumed on; with <see cref="AwaitBeforeReply"/> it also awaits
/// a timer before every reply, so its writes come from a thread that is not the loop's.
/// </summary>
public sealed class ThreadRecordingEchoHandler : ConnectionHandler
{
    public ConcurrentQueue<string?> ReadThreads { get; } = new();

    public bool AwaitBeforeReply { get; set; }

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        while (true)
        {
            var result = await input.ReadAsync().ConfigureAwait(false);
            ReadThreads.Enqueue(Thread.CurrentThread.Name);
            if (AwaitBeforeReply)
            {
                await Task.Delay(1).ConfigureAwait(false);
            }

            foreach (var segment in result.Buffer)
            {
                output.Write(segment.Span);
            }

            input.AdvanceTo(result.Buffer.End);
            if ((await output.FlushAsync().ConfigureAwait(false)).IsCompleted || result.IsCompleted)
            {
                return;
            }
        }
    }
}
