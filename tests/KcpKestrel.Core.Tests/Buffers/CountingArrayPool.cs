using System.Buffers;

namespace KcpKestrel.Core.Tests.Buffers;

/// <summary>An array pool that counts what is out, so a test can see an engine used it and gave everything back.</summary>
internal sealed class CountingArrayPool : ArrayPool<byte>
{
    private readonly HashSet<byte[]> _out = new(ReferenceEqualityComparer.Instance);

    public int Rents { get; private set; }

    public int Outstanding => _out.Count;

    public int ForeignReturns { get; private set; }

    public override byte[] Rent(int minimumLength)
    {
        Rents++;
        var array = new byte[Math.Max(minimumLength, 16)];
        _out.Add(array);
        return array;
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        if (!_out.Remove(array))
        {
            ForeignReturns++;
        }
    }
}
