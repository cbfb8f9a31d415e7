using System.IO.Pipelines;
using System.Net.Sockets;

namespace KcpKestrel.Tests.Shared;

/// <summary>Duplex pipes for tests: an in-memory connected pair, or one over a connected socket.</summary>
internal static class DuplexPipes
{
    /// <summary>Two ends of an in-memory connection: what one writes, the other reads.</summary>
    public static (IDuplexPipe A, IDuplexPipe B) CreatePair()
    {
        var ab = new Pipe();
        var ba = new Pipe();
        return (new Duplex(ba.Reader, ab.Writer), new Duplex(ab.Reader, ba.Writer));
    }

    /// <summary>A duplex pipe over <paramref name="socket"/> (owned: it closes with the stream).</summary>
    public static IDuplexPipe FromSocket(Socket socket)
    {
        var stream = new NetworkStream(socket, ownsSocket: true);
        return new Duplex(PipeReader.Create(stream), PipeWriter.Create(stream));
    }

    /// <summary>A duplex pipe over two given ends.</summary>
    public static IDuplexPipe Create(PipeReader input, PipeWriter output) => new Duplex(input, output);

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
