using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Tests.Infrastructure;

/// <summary>
/// Reads <see cref="Expect"/> bytes from its first connection and keeps them, then writes <see cref="Reply"/> and
/// closes: a peer that shows exactly what a stream carried, and sends exactly the bytes a test chose.
/// </summary>
public sealed class QppVectorHandler : ConnectionHandler
{
    private readonly TaskCompletionSource<byte[]> _received = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Expect { get; set; }

    public byte[] Reply { get; set; } = [];

    public Task<byte[]> Received => _received.Task;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var received = new List<byte>();
        while (received.Count < Expect)
        {
            var result = await input.ReadAsync();
            received.AddRange(result.Buffer.ToArray());
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        _received.TrySetResult([.. received]);
        await connection.Transport.Output.WriteAsync(Reply);
    }
}
