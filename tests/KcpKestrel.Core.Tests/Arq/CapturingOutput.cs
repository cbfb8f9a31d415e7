using KcpKestrel.Core.Arq;

namespace KcpKestrel.Core.Tests.Arq;

/// <summary>Collects copies of every datagram a control block emits.</summary>
internal sealed class CapturingOutput : IKcpOutput
{
    public List<byte[]> Datagrams { get; } = [];

    public void Output(Span<byte> buffer) => Datagrams.Add(buffer.ToArray());

    public List<byte[]> Take()
    {
        var taken = new List<byte[]>(Datagrams);
        Datagrams.Clear();
        return taken;
    }
}
