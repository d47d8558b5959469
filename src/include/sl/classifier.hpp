// A classifier whose class is one field of the parsed packet, in Streamline's
// style: `rx | ipproto |17 count`. `Field` provides
//     static bool get(const rte_mbuf* m, uint32_t& cls) noexcept;
// returning false when the packet has no such field; those packets get no
// class and only an else-edge (`|else`) takes them.
#pragma once

#include <sl/filter.hpp>

namespace sl {

template <typename Field>
class FieldClassifier final : public Filter {
public:
    explicit FieldClassifier(FilterContext&) {}
    void process(Burst& burst) noexcept override {
        for (uint16_t i = 0; i < burst.size(); i++) {
            uint32_t cls;
            if (Field::get(burst[i], cls)) burst.set_class(i, cls);
            else burst.set_no_class(i);
        }
    }
};

}  // namespace sl
